package inventory

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

const example = `resources:
  - id: i-0a1b2c3d4e5f67890
    type: vm
    cloud: aws
    region: us-east-1
    account: "123456789012"
    instance_type: m5.large
    tags: {service: checkout, team: payments, owner: ana}
  - id: vol-0123456789abcdef0
    type: volume
    cloud: aws
    region: us-east-1
    product: ebs-gp3-storage
    size_gib: 200
  - id: projects/p/instances/orders
    type: database
    cloud: gcp
    region: us-central1
    instance_type: db-custom-2-7680
    purchase: committed
    tags:
      app: orders
      empty:
`

func TestParse(t *testing.T) {
	got, err := Parse("inv.yaml", []byte(example))
	require.NoError(t, err)
	require.Equal(t, []Resource{
		{
			ID: "i-0a1b2c3d4e5f67890", Type: TypeVM, Cloud: "aws", Region: "us-east-1",
			Account: "123456789012", InstanceType: "m5.large",
			Tags: map[string]string{"service": "checkout", "team": "payments", "owner": "ana"},
			File: "inv.yaml", Line: 2,
		},
		{
			ID: "vol-0123456789abcdef0", Type: TypeVolume, Cloud: "aws", Region: "us-east-1",
			Product: "ebs-gp3-storage", SizeGiB: 200, File: "inv.yaml", Line: 9,
		},
		{
			ID: "projects/p/instances/orders", Type: TypeDatabase, Cloud: "gcp",
			Region: "us-central1", InstanceType: "db-custom-2-7680", Purchase: "committed",
			Tags: map[string]string{"app": "orders", "empty": ""}, File: "inv.yaml", Line: 15,
		},
	}, got)
	require.Equal(t, "inv.yaml:9", got[1].Where())
	require.Equal(t, `resource "x"`, Resource{ID: "x"}.Where())
}

func TestParseEmpty(t *testing.T) {
	for _, in := range []string{"", "resources:\n", "resources: []\n"} {
		got, err := Parse("inv.yaml", []byte(in))
		require.NoError(t, err, in)
		require.Empty(t, got, in)
	}
}

func TestParseErrors(t *testing.T) {
	vm := "resources:\n  - id: i-1\n    type: vm\n    cloud: aws\n    instance_type: m5.large\n"
	for _, tc := range []struct{ name, in, want string }{
		{"not yaml", "resources: [", "inv.yaml: yaml: line 1: did not find expected node content"},
		{"not a mapping", "- a\n", "inv.yaml:1: want a mapping with a resources list"},
		{"unknown top field", "resource: []\n", "inv.yaml:1: resource: unknown field"},
		{"resources not a list", "resources: {}\n", "inv.yaml:1: resources: want a list"},
		{"item not a mapping", "resources:\n  - x\n", "inv.yaml:2: resources[0]: want a mapping"},
		{"unknown field", vm + "    size: 3\n", "inv.yaml:6: resources[0].size: unknown field"},
		{"field twice", vm + "    cloud: gcp\n", "inv.yaml:6: resources[0].cloud: given twice"},
		{"string field not scalar", vm + "    name: [a]\n",
			"inv.yaml:6: resources[0].name: want a string"},
		{"null string", vm + "    name:\n", "inv.yaml:6: resources[0].name: want a string"},
		{"no id", "resources:\n  - type: vm\n    cloud: aws\n",
			"inv.yaml:2: resources[0].id: required"},
		{"no cloud", "resources:\n  - id: a\n    type: vm\n",
			"inv.yaml:2: resources[0].cloud: required"},
		{"no type", "resources:\n  - id: a\n    cloud: aws\n",
			"inv.yaml:2: resources[0].type: required: one of vm, database, cache, broker, " +
				"load_balancer, nat_gateway, volume, bucket, function"},
		{"bad type", "resources:\n  - id: a\n    cloud: aws\n    type: disk\n",
			`inv.yaml:4: resources[0].type: "disk" is not one of vm, database, cache, broker, ` +
				"load_balancer, nat_gateway, volume, bucket, function"},
		{"bad purchase", vm + "    purchase: cheap\n",
			`inv.yaml:6: resources[0].purchase: "cheap" is not one of on_demand, spot, ` +
				"reserved, committed"},
		{"hourly without instance type", "resources:\n  - id: a\n    cloud: aws\n    type: vm\n",
			"inv.yaml:2: resources[0].instance_type: required for a vm: what it is priced by"},
		{"hourly with product", vm + "    product: ebs\n",
			"inv.yaml:6: resources[0].product: a vm is priced by instance_type, " +
				"not product and size_gib"},
		{"stored without product",
			"resources:\n  - id: a\n    cloud: aws\n    type: bucket\n    size_gib: 1\n",
			"inv.yaml:2: resources[0].product: required for a bucket: the storage product " +
				"it is priced by"},
		{"stored without size",
			"resources:\n  - id: a\n    cloud: aws\n    type: bucket\n    product: s3\n",
			"inv.yaml:2: resources[0].size_gib: required for a bucket: the GiB it stores"},
		{"stored with instance type",
			"resources:\n  - id: a\n    cloud: aws\n    type: volume\n    product: gp3\n" +
				"    size_gib: 1\n    instance_type: m5.large\n",
			"inv.yaml:7: resources[0].instance_type: a volume is priced by product and size_gib"},
		{"stored with os",
			"resources:\n  - id: a\n    cloud: aws\n    type: volume\n    product: gp3\n" +
				"    size_gib: 1\n    os: linux\n",
			"inv.yaml:7: resources[0].os: a volume has no operating system"},
		{"negative size",
			"resources:\n  - id: a\n    cloud: aws\n    type: volume\n    size_gib: -1\n",
			`inv.yaml:5: resources[0].size_gib: "-1" is not a finite number of GiB, 0 or more`},
		{"NaN size",
			"resources:\n  - id: a\n    cloud: aws\n    type: volume\n    size_gib: .nan\n",
			`inv.yaml:5: resources[0].size_gib: ".nan" is not a finite number of GiB, 0 or more`},
		{"size not scalar",
			"resources:\n  - id: a\n    cloud: aws\n    type: volume\n    size_gib: [1]\n",
			"inv.yaml:5: resources[0].size_gib: want a number"},
		{"tags not a mapping", vm + "    tags: [a]\n",
			"inv.yaml:6: resources[0].tags: want a mapping of tag keys to values"},
		{"tag not a string", vm + "    tags: {a: [b]}\n",
			"inv.yaml:6: resources[0].tags.a: want a string"},
		{"empty tag key", vm + "    tags: {'': b}\n", "inv.yaml:6: resources[0].tags: empty tag key"},
		{"tag twice", vm + "    tags: {a: b, a: c}\n", "inv.yaml:6: resources[0].tags.a: given twice"},
		{"function with instance type",
			"resources:\n  - {id: f, type: function, cloud: aws, memory_mib: 128, instance_type: x}\n",
			"inv.yaml:2: resources[0].type: a function is priced from its usage: give memory_mib, " +
				"not instance_type, product, size_gib, os or purchase"},
		{"hourly with size", vm + "    size_gib: 5\n",
			"inv.yaml:6: resources[0].size_gib: a vm is priced by instance_type, " +
				"not product and size_gib"},
		{"stored with purchase",
			"resources:\n  - {id: a, type: volume, cloud: aws, product: gp3, size_gib: 1, " +
				"purchase: spot}\n",
			"inv.yaml:2: resources[0].purchase: a volume is priced per GiB-month on demand"},
		{"function elsewhere", "resources:\n  - {id: f, type: function, cloud: gcp}\n",
			`inv.yaml:2: resources[0].cloud: functions are read for aws (Lambda) and azure ` +
				`(Functions), not "gcp"`},
		{"memory of a vm", vm + "    memory_mib: 512\n",
			"inv.yaml:6: resources[0].memory_mib: only a function has a configured memory"},
		{"zero memory", "resources:\n  - {id: f, type: function, cloud: aws, memory_mib: 0}\n",
			`inv.yaml:2: resources[0].memory_mib: "0" is not a positive number of MiB`},
		{"duplicate id", vm + "  - id: i-1\n    type: vm\n    cloud: aws\n    instance_type: t3.micro\n",
			`inv.yaml:6: resources[1].id: "i-1" of cloud "aws" is listed already on line 2`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("inv.yaml", []byte(tc.in))
			require.EqualError(t, err, tc.want)
		})
	}
}

func TestSameIDInTwoClouds(t *testing.T) {
	in := "resources:\n" +
		"  - {id: a, type: vm, cloud: aws, instance_type: m5.large}\n" +
		"  - {id: a, type: vm, cloud: gcp, instance_type: n2-standard-2, tags: ~}\n"
	got, err := Parse("inv.yaml", []byte(in))
	require.NoError(t, err)
	require.Len(t, got, 2)
}

func TestReadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inv.yaml")
	require.NoError(t, os.WriteFile(path, []byte(example), 0o600))
	got, err := ReadFile(path)
	require.NoError(t, err)
	require.Len(t, got, 3)
	require.Equal(t, path, got[0].File)

	_, err = ReadFile(filepath.Join(t.TempDir(), "missing.yaml"))
	require.ErrorContains(t, err, "inventory: open ")
}

func TestHourly(t *testing.T) {
	require.True(t, Hourly(TypeVM))
	require.True(t, Hourly(TypeNATGateway))
	require.False(t, Hourly(TypeVolume))
	require.False(t, Hourly("disk"))
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(example))
	f.Add([]byte("resources:\n  - {id: a, type: bucket, cloud: aws, product: s3, size_gib: 1e3}\n"))
	f.Add([]byte("resources:\n  - {id: f, type: function, cloud: azure, region: eastus}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Parse("fuzz.yaml", data)
		if err != nil {
			require.Nil(t, got)
			return
		}
		for _, r := range got {
			require.NotEmpty(t, r.ID)
			require.NotEmpty(t, r.Cloud)
			require.Contains(t, types(), r.Type)
			require.False(t, r.SizeGiB < 0 || r.SizeGiB != r.SizeGiB, "size %v", r.SizeGiB)
			switch {
			case Hourly(r.Type):
				require.NotEmpty(t, r.InstanceType)
			case r.Type == TypeFunction:
				require.GreaterOrEqual(t, r.MemoryMiB, 0.0, "memory_mib is optional")
				require.Contains(t, []string{"aws", "azure"}, r.Cloud)
			default:
				require.NotEmpty(t, r.Product)
			}
		}
	})
}

func TestWriteReadsBack(t *testing.T) {
	want, err := Parse("inv.yaml", []byte(example))
	require.NoError(t, err)
	want = append(want, Resource{ID: "b", Type: TypeBucket, Cloud: "aws", Product: "s3-standard",
		SizeGiB: 0, Name: "logs: \"x\"", OS: "", Account: "1"},
		Resource{ID: "arn:aws:lambda:us-east-1:1:function:f", Type: TypeFunction, Cloud: "aws",
			Region: "us-east-1", MemoryMiB: 1769})
	var buf bytes.Buffer
	require.NoError(t, Write(&buf, want))
	got, err := Parse("out.yaml", buf.Bytes())
	require.NoError(t, err, buf.String())
	for i := range want {
		want[i].File, want[i].Line = "", 0
		got[i].File, got[i].Line = "", 0
	}
	want[2].Tags["empty"] = "" // written as '' and read back so
	require.Equal(t, want, got)
}

func TestParseNormalisesCloudAndRegion(t *testing.T) {
	got, err := Parse("inv.yaml", []byte("resources:\n"+
		"  - {id: i-1, type: vm, cloud: AWS, region: US-East-1, instance_type: m5.large}\n"))
	require.NoError(t, err)
	require.Equal(t, "aws", got[0].Cloud)
	require.Equal(t, "us-east-1", got[0].Region)

	_, err = Parse("inv.yaml", []byte("resources:\n"+
		"  - {id: i-1, type: vm, cloud: AWS, instance_type: m5.large}\n"+
		"  - {id: i-1, type: vm, cloud: aws, instance_type: m5.large}\n"))
	require.EqualError(t, err, `inv.yaml:3: resources[1].id: "i-1" of cloud "aws" is listed already on line 2`)

	_, err = Parse("inv.yaml", []byte("resources:\n"+
		"  - {id: v, type: volume, cloud: aws, product: ebs-gp3, size_gib: 0}\n"))
	require.EqualError(t, err, "inv.yaml:2: resources[0].size_gib: a volume of 0 GiB: give its provisioned size")
}
