package cost

import (
	"strings"
)

// BillingResourceKeys returns the keys under which a resource is matched
// between Stratus and a billing export, most specific first. It takes either
// side's spelling of a resource: a Kubernetes node's providerID as
// kube_node_info{provider_id} carries it, or the ResourceId of a billing export
// row. Two ids name the same resource when the first key of one is any key of
// the other. Keys are lower case: ARM ids are case-insensitive and exports
// spell them in several cases.
//
// The rules, per cloud:
//
//   - AWS. A providerID is aws:///<zone>/<instance-id>; CUR (line_item_resource_id)
//     and FOCUS exports bill an EC2 instance under its instance id (i-…), some
//     tools under its ARN arn:aws:ec2:<region>:<account>:instance/<instance-id>.
//     All three give the key "i-…".
//   - GCP. A providerID is gce://<project>/<zone>/<instance>; the BigQuery export
//     (resource.global_name) and Google's FOCUS export write the full resource
//     name //compute.googleapis.com/projects/<project>/zones/<zone>/instances/<instance>,
//     and some tools a self link https://www.googleapis.com/compute/v1/projects/….
//     All give the key projects/<project>/zones/<zone>/instances/<instance>.
//   - Azure. A providerID is azure:///subscriptions/…/virtualMachines/<vm> or, on
//     a scale set, azure:///subscriptions/…/virtualMachineScaleSets/<set>/virtualMachines/<n>;
//     Azure cost exports (ResourceId) write the ARM id without the scheme. The key
//     is the ARM id. Azure bills scale-set instances under the scale set's ARM id,
//     so a scale-set instance has the scale set's id as a second key: then every
//     node of the set matches the one billed resource, and their estimates add up.
//   - Anything else (other providers, the simulator's own spellings, cluster/node
//     names of nodes without a providerID) is its own key, lower case, with a
//     trailing slash removed.
//
// The simulator bills each node under its providerID, so its rows and its
// nodes meet under the rules above as any real export's would.
func BillingResourceKeys(id string) []string {
	id = strings.TrimSpace(id)
	if id == "" {
		return nil
	}
	lower := strings.TrimSuffix(strings.ToLower(id), "/")
	switch {
	case strings.HasPrefix(lower, "aws://"):
		return []string{lastSegment(lower)}
	case strings.HasPrefix(lower, "arn:aws:ec2:") && strings.Contains(lower, ":instance/"):
		return []string{lastSegment(lower)}
	case strings.HasPrefix(lower, "gce://"):
		parts := strings.Split(strings.TrimPrefix(lower, "gce://"), "/")
		if len(parts) == 3 {
			return []string{"projects/" + parts[0] + "/zones/" + parts[1] + "/instances/" + parts[2]}
		}
		return []string{lower}
	case strings.HasPrefix(lower, "//compute.googleapis.com/"):
		return []string{strings.TrimPrefix(lower, "//compute.googleapis.com/")}
	case strings.HasPrefix(lower, "https://www.googleapis.com/compute/v1/"):
		return []string{strings.TrimPrefix(lower, "https://www.googleapis.com/compute/v1/")}
	case strings.HasPrefix(lower, "azure://"):
		return azureKeys(strings.TrimLeft(strings.TrimPrefix(lower, "azure://"), "/"))
	case strings.HasPrefix(lower, "/subscriptions/"):
		return azureKeys(strings.TrimPrefix(lower, "/"))
	}
	return []string{lower}
}

// azureKeys returns the keys of an ARM id given without its leading slash.
func azureKeys(arm string) []string {
	keys := []string{"/" + arm}
	const set = "/virtualmachinescalesets/"
	if i := strings.Index(arm, set); i >= 0 {
		rest := arm[i+len(set):]
		if name, _, ok := strings.Cut(rest, "/virtualmachines/"); ok {
			keys = append(keys, "/"+arm[:i+len(set)]+name)
		}
	}
	return keys
}

func lastSegment(s string) string {
	return s[strings.LastIndex(s, "/")+1:]
}
