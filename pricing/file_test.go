package pricing

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParsePriceFileCSV(t *testing.T) {
	data := strings.Join([]string{
		"# Negotiated and on-premises prices, 2026.",
		" Cloud , region,KIND,product,os,purchase,price,unit,currency",
		"onprem,dc1,compute,rack-node,,,1460,month,",
		"onprem,dc1,compute,rack-node,windows,,2.5,hour,USD",
		"aws,us-east-1,compute,m5.large,linux,spot,0.03,hour,",
		"onprem,dc1,vcpu,rack,,reserved,7.3,vcpu-month,",
		"onprem,dc1,memory,rack,,,0.001,gib-hour,",
		"onprem,dc1,memory,rack-big,,,0.73,gib-month,",
		"onprem,dc1,vcpu,rack-big,,,0.02,vcpu-hour,",
		"onprem,dc1,storage,ceph,,,0.02,gib-month,",
		`onprem,dc1,egress,"internet",,committed,0.05,gib,`,
		"",
	}, "\n")
	got, err := ParsePriceFile("prices/negotiated.CSV", []byte(data), "USD")
	require.NoError(t, err)

	p := func(cloud, region string, kind Kind, product, os string, purchase Purchase,
		value float64,
	) Price {
		return Price{
			Key: Key{Cloud: cloud, Region: region, Kind: kind, Product: product, OS: os,
				Purchase: purchase},
			Value: value, Unit: UnitOf(kind), Currency: "USD", Source: "prices/negotiated.CSV",
		}
	}
	want := []Price{
		p("onprem", "dc1", KindCompute, "rack-node", "linux", OnDemand, 2),
		p("onprem", "dc1", KindCompute, "rack-node", "windows", OnDemand, 2.5),
		p("aws", "us-east-1", KindCompute, "m5.large", "linux", Spot, 0.03),
		p("onprem", "dc1", KindVCPU, "rack", "", Reserved, 0.01),
		p("onprem", "dc1", KindMemory, "rack", "", OnDemand, 0.001),
		p("onprem", "dc1", KindMemory, "rack-big", "", OnDemand, 0.001),
		p("onprem", "dc1", KindVCPU, "rack-big", "", OnDemand, 0.02),
		p("onprem", "dc1", KindStorage, "ceph", "", OnDemand, 0.02),
		p("onprem", "dc1", KindEgress, "internet", "", Committed, 0.05),
	}
	require.Len(t, got, len(want))
	for i := range want {
		require.InDelta(t, want[i].Value, got[i].Value, 1e-12, i)
		got[i].Value = want[i].Value
		require.Equal(t, want[i], got[i])
		require.NoError(t, got[i].Validate())
	}
}

// TestParsePriceFileServerlessUnits checks the units serverless prices are
// quoted in: per second and per million requests, each converted explicitly
// to its kind's own unit.
func TestParsePriceFileServerlessUnits(t *testing.T) {
	tests := []struct {
		name, row string
		kind      Kind
		unit      Unit
		want      float64
	}{
		{"fargate vcpu per hour", "aws,us-east-1,vcpu,fargate,0.04048,vcpu-hour",
			KindVCPU, PerVCPUHour, 0.04048},
		{"cloud run vcpu per second", "gcp,us-central1,vcpu,cloud-run,0.000024,vcpu-second",
			KindVCPU, PerVCPUHour, 0.0864},
		{"cloud run memory per second", "gcp,us-central1,memory,cloud-run,0.0000025,gib-second",
			KindMemory, PerGiBHour, 0.009},
		{"lambda GB-second", "aws,us-east-1,memory,lambda,0.0000166667,gib-second",
			KindMemory, PerGiBHour, 0.06000012},
		{"requests per million", "aws,us-east-1,request,lambda,0.2,million-requests",
			KindRequest, PerRequest, 2e-7},
		{"requests one by one", "gcp,us-central1,request,cloud-run,4e-7,request",
			KindRequest, PerRequest, 4e-7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := "cloud,region,kind,product,price,unit\n" + tt.row + "\n"
			got, err := ParsePriceFile("serverless.csv", []byte(data), "USD")
			require.NoError(t, err)
			require.Len(t, got, 1)
			require.Equal(t, tt.kind, got[0].Kind)
			require.Equal(t, tt.unit, got[0].Unit)
			require.InEpsilon(t, tt.want, got[0].Value, 1e-12)
			require.NoError(t, got[0].Validate())
			_, hourly := got[0].Hourly()
			require.Equal(t, tt.kind != KindRequest, hourly)
		})
	}
}

func TestParsePriceFileYAML(t *testing.T) {
	data := `
# Negotiated prices.
- cloud: onprem
  region: dc1
  kind: compute
  product: rack-node
  os: ~
  price: 730
  unit: month
- {cloud: aws, region: us-east-1, kind: storage, product: ebs-gp3, price: "0.064",
   unit: gib-month, currency: EUR, purchase: on_demand, os: ""}
`
	got, err := ParsePriceFile("negotiated.yml", []byte(data), "EUR")
	require.NoError(t, err)
	require.Equal(t, []Price{
		{
			Key: Key{Cloud: "onprem", Region: "dc1", Kind: KindCompute, Product: "rack-node",
				OS: "linux", Purchase: OnDemand},
			Value: 1, Unit: PerHour, Currency: "EUR", Source: "negotiated.yml",
		},
		{
			Key: Key{Cloud: "aws", Region: "us-east-1", Kind: KindStorage, Product: "ebs-gp3",
				Purchase: OnDemand},
			Value: 0.064, Unit: PerGiBMonth, Currency: "EUR", Source: "negotiated.yml",
		},
	}, got)

	got, err = ParsePriceFile("empty-list.yaml", []byte("[]"), "USD")
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestParsePriceFileErrors(t *testing.T) {
	const header = "cloud,region,kind,product,os,purchase,price,unit,currency\n"
	tests := []struct {
		name, file, data, wantErr string
	}{
		{"extension", "prices.json", "[]",
			`prices.json: price files end in .csv, .yaml or .yml, not ".json"`},
		{"csv empty", "p.csv", "# only a comment\n",
			"p.csv: empty price file: want a header of cloud,region"},
		{"csv bad quote", "p.csv", "cloud,\"kind\nproduct",
			`p.csv: record on line 1; parse error on line 2, column 8`},
		{"csv unknown columns", "p.csv", "cloud,Zone,kind,product,price,unit,tier\n",
			`p.csv:1: header: unknown columns "Zone", "tier" (known: cloud,region,kind`},
		{"csv column twice", "p.csv", "cloud,kind,product,price,unit,KIND\n",
			`p.csv:1: header: column "kind" appears twice`},
		{"csv column missing", "p.csv", "cloud,kind,product,unit\n",
			`p.csv:1: header: column "price" is missing`},
		{"csv field count", "p.csv", header + "aws,us-east-1,compute\n",
			"p.csv: record on line 2: wrong number of fields"},
		{"cloud", "p.csv", header + " ,r,compute,x,,,1,hour,\n", "p.csv:2: cloud: required"},
		{"kind", "p.csv", header + "aws,r,machine,x,,,1,hour,\n",
			`p.csv:2: kind: "machine" is not one of compute, vcpu, memory, storage, egress`},
		{"product", "p.csv", header + "aws,r,compute,,,,1,hour,\n", "p.csv:2: product: required"},
		{"os of storage", "p.csv", header + "aws,r,storage,x,linux,,1,gib-month,\n",
			"p.csv:2: os: only compute prices have an OS, not storage"},
		{"purchase", "p.csv", header + "aws,r,compute,x,,savings_plan,1,hour,\n",
			`p.csv:2: purchase: "savings_plan" is not one of on_demand, spot, reserved`},
		{"unit of compute", "p.csv", header + "aws,r,compute,x,,,1,gib-month,\n",
			`p.csv:2: unit: "gib-month" does not fit kind compute (use hour or month)`},
		{"unit of storage", "p.csv", header + "aws,r,storage,x,,,1,month,\n",
			`p.csv:2: unit: "month" does not fit kind storage (use gib-month)`},
		{"unit case", "p.csv", header + "aws,r,egress,x,,,1,GiB,\n",
			`p.csv:2: unit: "GiB" does not fit kind egress (use gib)`},
		{"unit of requests", "p.csv", header + "aws,r,request,lambda,,,0.2,gib,\n",
			`p.csv:2: unit: "gib" does not fit kind request (use million-requests or request)`},
		{"per-second compute", "p.csv", header + "aws,r,compute,x,,,1,second,\n",
			`p.csv:2: unit: "second" does not fit kind compute (use hour or month)`},
		{"unknown unit", "p.csv", header + "gcp,r,vcpu,cloud-run,,,1,vcpu-minute,\n",
			`p.csv:2: unit: "vcpu-minute" does not fit kind vcpu ` +
				`(use vcpu-hour or vcpu-month or vcpu-second)`},
		{"os of request", "p.csv", header + "aws,r,request,lambda,linux,,1,request,\n",
			"p.csv:2: os: only compute prices have an OS, not request"},
		{"request price negative", "p.csv", header + "aws,r,request,lambda,,,-1,request,\n",
			"p.csv:2: price: -1 is not a number between 0 and 1e+12"},
		{"price empty", "p.csv", header + "aws,r,compute,x,,,,hour,\n", "p.csv:2: price: required"},
		{"price text", "p.csv", header + "aws,r,compute,x,,,$1,hour,\n",
			`p.csv:2: price: "$1" is not a number`},
		{"price out of range", "p.csv", header + "aws,r,compute,x,,,1e400,hour,\n",
			`p.csv:2: price: "1e400" is not a number`},
		{"price negative", "p.csv", header + "aws,r,compute,x,,,-1,hour,\n",
			"p.csv:2: price: -1 is not a number between 0 and 1e+12"},
		{"price NaN", "p.csv", header + "aws,r,compute,x,,,NaN,hour,\n",
			"p.csv:2: price: NaN is not a number between 0 and 1e+12"},
		{"price infinite", "p.csv", header + "aws,r,compute,x,,,+Inf,month,\n",
			"p.csv:2: price: +Inf is not a number between 0 and 1e+12"},
		{"currency", "p.csv", header + "aws,r,compute,x,,,1,hour,EUR\n",
			`p.csv:2: currency: "EUR", but the price book's currency is USD`},
		{"field on its own line", "p.csv",
			"cloud,kind,product,price,unit\naws,compute,\"x\ny\",1,\"a\nb\"\n",
			`p.csv:3: unit: "a\nb" does not fit kind compute`},
		{"csv twice", "p.csv", header + "aws,r,compute,x,,,1,hour,\n# c\n" +
			"AWS,R,compute,X,linux,on_demand,2,hour,USD\n",
			"p.csv:4: AWS/R compute X linux is already priced at line 2"},
		{"yaml syntax", "p.yaml", "- {cloud: aws\n", "p.yaml: yaml: line 1: did not find"},
		{"yaml empty", "p.yaml", "# nothing\n", "p.yaml: empty price file: want a list of prices"},
		{"yaml not a list", "p.yaml", "\ncloud: aws\n", "p.yaml:2: want a list of prices"},
		{"yaml item", "p.yaml", "- aws\n", "p.yaml:1: want a mapping of cloud, region, kind"},
		{"yaml unknown field", "p.yaml", "- cloud: aws\n  zone: a\n",
			`p.yaml:2: unknown field "zone" (known: cloud, region, kind`},
		{"yaml list value", "p.yaml", "- cloud: aws\n  product:\n    - a\n",
			"p.yaml:3: product: want a single value"},
		{"yaml missing field", "p.yaml", "- cloud: aws\n  kind: compute\n  product: x\n" +
			"  price: 1\n", "p.yaml:1: unit: required"},
		{"yaml field", "p.yaml", "- cloud: aws\n  kind: compute\n  product: x\n" +
			"  price: 1\n  unit: gib\n", `p.yaml:5: unit: "gib" does not fit kind compute`},
		{"yaml null required", "p.yaml", "- cloud:\n  kind: compute\n  product: x\n" +
			"  price: 1\n  unit: hour\n", "p.yaml:1: cloud: required"},
		{"yaml twice", "p.yaml", "- {cloud: aws, kind: compute, product: x, price: 1, " +
			"unit: hour}\n- {cloud: aws, kind: compute, product: x, price: 2, unit: hour}\n",
			"p.yaml:2: aws/ compute x linux is already priced at line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePriceFile(tt.file, []byte(tt.data), "USD")
			require.ErrorContains(t, err, tt.wantErr)
			require.Nil(t, got)
		})
	}
}

func TestLoadPriceFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.csv")
	require.NoError(t, os.WriteFile(path,
		[]byte("cloud,kind,product,price,unit\nonprem,egress,internet,0.01,gib\n"), 0o600))
	got, err := LoadPriceFile(path, "USD")
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, path, got[0].Source)

	_, err = LoadPriceFile(filepath.Join(dir, "missing.yaml"), "USD")
	require.ErrorContains(t, err, "price file: open "+dir)
}

func FuzzParsePriceFile(f *testing.F) {
	f.Add([]byte("cloud,region,kind,product,os,purchase,price,unit,currency\n"+
		"aws,us-east-1,compute,m5.large,,,0.096,hour,\n"), false)
	f.Add([]byte("cloud,kind,product,price,unit\nonprem,vcpu,rack,7.3,vcpu-month\n"), false)
	f.Add([]byte("cloud,kind,product,price,unit\nx,storage,y,0x1p-3,gib-month\n"), false)
	f.Add([]byte("- {cloud: aws, kind: egress, product: internet, price: 0.09, unit: gib}\n"),
		true)
	f.Add([]byte("- cloud: a\n  kind: memory\n  product: b\n  price: 1e11\n  unit: gib-month\n"),
		true)
	f.Add([]byte("- &a {cloud: a}\n- *a\n"), true)
	f.Add([]byte("cloud,kind,product,price,unit\naws,request,lambda,0.2,million-requests\n"),
		false)
	f.Add([]byte("cloud,kind,product,price,unit\ngcp,memory,cloud-run,2.5e-6,gib-second\n"),
		false)
	f.Add([]byte("- {cloud: gcp, kind: vcpu, product: cloud-run, price: 1e300, "+
		"unit: vcpu-second}\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, yamlFormat bool) {
		name := "fuzz.csv"
		if yamlFormat {
			name = "fuzz.yaml"
		}
		prices, err := ParsePriceFile(name, data, "USD")
		if err != nil {
			require.Nil(t, prices)
			require.True(t, strings.HasPrefix(err.Error(), name), err.Error())
			return
		}
		for _, p := range prices {
			require.NoError(t, p.Validate())
			require.Equal(t, name, p.Source)
		}
	})
}
