package sim

import "fmt"

// cloudProfile holds the real names one provider uses for the things the world needs.
type cloudProfile struct {
	cloud    string
	region   string
	zones    []string
	nodeType string
	nodeCPU  float64 // cores
	nodeMem  float64 // bytes
	// kubelet/runtime details for kube_node_info.
	osImage, kernel, runtime, kubelet string
	vmTypes                           []string
	dbTypes                           map[EdgeKind]string // managed store offering per edge kind
	dbKinds                           map[EdgeKind]string // resource kind names for truth
	provider                          string
}

const gib = 1024 * 1024 * 1024

var cloudProfiles = []cloudProfile{
	{
		cloud: "aws", region: "us-east-1", zones: []string{"us-east-1a", "us-east-1b", "us-east-1c"},
		nodeType: "m5.xlarge", nodeCPU: 4, nodeMem: 16 * gib,
		osImage: "Amazon Linux 2023.6.20250123", kernel: "6.1.124-134.200.amzn2023.x86_64",
		runtime: "containerd://1.7.25", kubelet: "v1.31.4-eks-aeac579",
		vmTypes:  []string{"t3.medium", "m5.large"},
		dbTypes:  map[EdgeKind]string{KindDatabase: "db.r6g.large", KindMessaging: "mq.m5.large"},
		dbKinds:  map[EdgeKind]string{KindDatabase: "aws_db_instance", KindMessaging: "aws_mq_broker"},
		provider: "aws:///%s/i-%017x",
	},
	{
		cloud: "gcp", region: "us-central1",
		zones:    []string{"us-central1-a", "us-central1-b", "us-central1-f"},
		nodeType: "n2-standard-4", nodeCPU: 4, nodeMem: 16 * gib,
		osImage: "Container-Optimized OS from Google", kernel: "6.1.112+",
		runtime: "containerd://1.7.24", kubelet: "v1.31.5-gke.1023000",
		vmTypes:  []string{"e2-standard-2", "n2-standard-2"},
		dbTypes:  map[EdgeKind]string{KindDatabase: "db-custom-2-7680", KindMessaging: "e2-standard-2"},
		dbKinds:  map[EdgeKind]string{KindDatabase: "google_sql_database_instance", KindMessaging: "google_compute_instance"},
		provider: "gce://stratus-demo/%s/gke-node-%017x",
	},
	{
		cloud: "azure", region: "eastus", zones: []string{"eastus-1", "eastus-2", "eastus-3"},
		nodeType: "Standard_D4s_v5", nodeCPU: 4, nodeMem: 16 * gib,
		osImage: "Ubuntu 22.04.5 LTS", kernel: "5.15.0-1079-azure",
		runtime: "containerd://1.7.25-1", kubelet: "v1.31.3",
		vmTypes:  []string{"Standard_B2s", "Standard_D2s_v5"},
		dbTypes:  map[EdgeKind]string{KindDatabase: "GP_Standard_D2ds_v4", KindMessaging: "Standard"},
		dbKinds:  map[EdgeKind]string{KindDatabase: "azurerm_postgresql_flexible_server", KindMessaging: "azurerm_servicebus_namespace"},
		provider: "azure:///subscriptions/0000/resourceGroups/mc_prod/%s/vmss/%017x",
	},
	{
		cloud: "onprem", region: "dc-fra1", zones: []string{"dc-fra1-rack1"},
		nodeType: "dell-r650", nodeCPU: 32, nodeMem: 256 * gib,
		vmTypes: []string{"vmware-4c16g", "vmware-2c8g"},
		dbTypes: map[EdgeKind]string{KindDatabase: "vmware-8c32g", KindMessaging: "vmware-4c16g"},
		dbKinds: map[EdgeKind]string{KindDatabase: "vsphere_virtual_machine", KindMessaging: "vsphere_virtual_machine"},
	},
}

// cluster is one Kubernetes cluster; every cloud but on-premises has one.
type cluster struct {
	index   int
	name    string
	profile *cloudProfile
	nodes   []*node
	podIPs  int
}

// node is a Kubernetes node, itself a cloud resource.
type node struct {
	name, zone, ip, providerID, uuid string
	cluster                          *cluster
	cpu, mem                         float64
	requestedCPU                     float64
}

// nextPodIP returns the address of the cluster's next pod. A live world creates
// pods forever, so after 64 000 pods the addresses are reused, as a pod CIDR's are.
func (c *cluster) nextPodIP() string {
	c.podIPs++
	return fmt.Sprintf("10.%d.%d.%d", 100+c.index, c.podIPs/250%256, c.podIPs%250+2)
}

// vmServices name the non-Kubernetes workloads VMs run; beyond the list they repeat
// with a numeric suffix.
var vmServices = []struct{ name, team string }{
	{"bastion", "platform"},
	{"ci-runner", "platform"},
	{"reporting", "data"},
	{"vpn-gateway", "platform"},
	{"legacy-billing", "payments"},
}

var teams = []struct{ name, owner string }{
	{"storefront", "alice@example.com"},
	{"checkout", "bob@example.com"},
	{"platform", "carol@example.com"},
	{"data", "dave@example.com"},
	{"growth", "erin@example.com"},
	{"payments", "frank@example.com"},
}

func ownerOf(team string) string {
	for _, t := range teams {
		if t.name == team {
			return t.owner
		}
	}
	return ""
}
