package billing

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const focusHeader10 = "ProviderName,BillingAccountId,SubAccountId,ChargeCategory,ChargeClass," +
	"ChargePeriodStart,ChargePeriodEnd,ServiceName,RegionId,ResourceId,PricingQuantity," +
	"PricingUnit,ListUnitPrice,ListCost,BilledCost,EffectiveCost,BillingCurrency,Tags"

func TestReadFOCUSVersions(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		ignored []string
		check   func(t *testing.T, r Row)
	}{
		{
			name: "1.0 with NULL and space timestamps",
			input: focusHeader10 + "\n" +
				`AWS,1,2,Usage,NULL,2024-09-01 00:00:00,2024-09-01 01:00:00,EC2,us-east-1,i-1,2,Hrs,0.5,1,1,1,USD,"{""service"":""api"",""n"":3}"`,
			check: func(t *testing.T, r Row) {
				require.Equal(t, CloudAWS, r.Cloud)
				require.Equal(t, time.Date(2024, 9, 1, 1, 0, 0, 0, time.UTC), r.ChargePeriodEnd)
				require.Equal(t, map[string]string{"service": "api", "n": "3"}, r.Tags)
				require.Empty(t, r.ChargeClass)
			},
		},
		{
			name: "1.2 with RFC 3339 and vendor columns",
			input: focusHeader10 + ",InvoiceId,PricingCurrency,x_ServiceCode,x_Discounts\n" +
				`Google Cloud,1,2,usage,Correction,2024-09-01T00:00:00Z,2024-09-01T01:00:00+00:00,GCE,us-central1,vm,1,h,1,1,-1,-1,usd,NULL,inv-1,USD,svc,{}`,
			ignored: []string{"x_ServiceCode", "x_Discounts"},
			check: func(t *testing.T, r Row) {
				require.Equal(t, CloudGCP, r.Cloud)
				require.Equal(t, CategoryUsage, r.ChargeCategory, "case does not matter")
				require.Equal(t, "USD", r.Currency)
				require.Equal(t, -1.0, r.BilledCost, "negative costs are kept")
				require.Nil(t, r.Tags)
			},
		},
		{
			name: "1.3 ServiceProviderName, camel case, unknown provider",
			input: strings.Replace(strings.ToLower(focusHeader10), "providername", "serviceprovidername", 1) +
				",HostProviderName,Extra\n" +
				`Acme Cloud,1,2,Tax,,2024-09-01,,,,,,,,,0.1,,EUR,,Acme,x`,
			ignored: []string{"Extra"},
			check: func(t *testing.T, r Row) {
				require.Equal(t, "Acme Cloud", r.Cloud)
				require.True(t, r.UnknownProvider)
				require.Equal(t, CategoryTax, r.ChargeCategory)
				require.True(t, math.IsNaN(r.ListCost))
				require.True(t, r.ChargePeriodEnd.IsZero())
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, skipped, err := readString(ReadFOCUS, tt.input+"\n")
			require.NoError(t, err)
			require.Zero(t, SkippedRows(skipped), "%v", skipped)
			require.Equal(t, tt.ignored, IgnoredColumns(skipped))
			require.Len(t, rows, 1)
			require.Equal(t, 2, rows[0].Line)
			tt.check(t, rows[0])
		})
	}
}

func TestReadFOCUSBadInput(t *testing.T) {
	row := func(billed, start, tags string) string {
		return "AWS,1,2,Usage,,\"" + start + "\",,EC2,r,i,1,h,1,1," + billed + ",1,USD," + tags
	}
	good := row("1", "2024-09-01 00:00:00", "")
	tests := []struct {
		name  string
		input string
		err   string
		skips []Skip
		rows  int
	}{
		{name: "empty", input: "", err: "test.csv: empty file, no CSV header"},
		{name: "not CSV", input: "\"unterminated\n", err: "test.csv: no CSV header: parse error on line 1, column 15: extraneous or missing \" in quoted-field"},
		{name: "missing columns", input: "BilledCost,Foo\n1,2\n",
			err: "test.csv: not a focus export: required column BillingCurrency, ChargeCategory, ChargePeriodStart, ServiceProviderName or ProviderName missing"},
		{name: "header only", input: focusHeader10 + "\n"},
		{name: "garbage number", input: focusHeader10 + "\n" + row("1.2.3", "2024-09-01", ""),
			skips: []Skip{{SkippedRow, 2, "BilledCost", `"1.2.3" is not a finite number`}}},
		{name: "hex number", input: focusHeader10 + "\n" + row("0x1p3", "2024-09-01", ""),
			skips: []Skip{{SkippedRow, 2, "BilledCost", `"0x1p3" is not a number`}}},
		{name: "NaN", input: focusHeader10 + "\n" + row("NaN", "2024-09-01", ""),
			skips: []Skip{{SkippedRow, 2, "BilledCost", `"NaN" is not a number`}}},
		{name: "Inf", input: focusHeader10 + "\n" + row("+Inf", "2024-09-01", ""),
			skips: []Skip{{SkippedRow, 2, "BilledCost", `"+Inf" is not a number`}}},
		{name: "NULL billed cost", input: focusHeader10 + "\n" + row("NULL", "2024-09-01", ""),
			skips: []Skip{{SkippedRow, 2, "BilledCost", "no billed cost"}}},
		{name: "bad time", input: focusHeader10 + "\n" + row("1", "Sept 1st", ""),
			skips: []Skip{{SkippedRow, 2, "ChargePeriodStart",
				`"Sept 1st" is not a time (want e.g. 2024-09-01 00:00:00 or RFC 3339)`}}},
		{name: "zone abbreviation", input: focusHeader10 + "\n" + row("1", "2024-09-01 00:00:00 PST", ""),
			skips: []Skip{{SkippedRow, 2, "ChargePeriodStart",
				`"2024-09-01 00:00:00 PST" is not a time (want e.g. 2024-09-01 00:00:00 or RFC 3339)`}}},
		{name: "bad tags", input: focusHeader10 + "\n" + row("1", "2024-09-01", "x") + "\n" + good,
			rows: 1, skips: []Skip{{SkippedRow, 2, "Tags",
				"tags are not a JSON object: invalid character 'x' looking for beginning of object key string"}}},
		{name: "short row", input: focusHeader10 + "\nAWS,1\n" + good, rows: 1,
			skips: []Skip{{SkippedRow, 2, "", "2 fields, the header has 18"}}},
		{name: "bad quote", input: focusHeader10 + "\n" + good + "\nAWS,\"x\"y,1\n" + good, rows: 2,
			skips: []Skip{{SkippedRow, 3, "", "not valid CSV: extraneous or missing \" in quoted-field"}}},
		{name: "blank lines", input: focusHeader10 + "\n\n" + good + "\n\n", rows: 1},
		{name: "long garbage is clipped", input: focusHeader10 + "\n" + row(strings.Repeat("9x", 40), "2024-09-01", ""),
			skips: []Skip{{SkippedRow, 2, "BilledCost", `"` + strings.Repeat("9x", 20) + `…" is not a number`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, skipped, err := readString(ReadFOCUS, tt.input)
			if tt.err != "" {
				require.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Len(t, rows, tt.rows)
			require.Equal(t, tt.skips, skipped)
		})
	}
}

func TestReadFOCUSMixedCurrenciesAndProviders(t *testing.T) {
	input := focusHeader10 + "\n" +
		"AWS,1,2,Usage,,2024-09-01,,EC2,r,i,1,h,1,1,1,1,USD,\n" +
		"Microsoft,1,2,Usage,,2024-09-01,,VM,r,i,1,h,1,1,2,2,EUR,\n" +
		"Oracle,1,2,Credit,,2024-09-01,,OCI,r,i,1,h,1,1,-3,-3,EUR,\n" +
		"Hetzner,1,2,Usage,,2024-09-01,,VM,r,i,1,h,1,1,4,4,EUR,\n" +
		",1,2,Usage,,2024-09-01,,VM,r,i,1,h,1,1,4,4,,\n"
	rows, skipped, err := readString(ReadFOCUS, input)
	require.NoError(t, err)
	require.Len(t, rows, 4, "a row without a currency is skipped, not a currency of its own")
	require.Equal(t, []Skip{{Kind: SkippedRow, Line: 6, Field: "BillingCurrency",
		Reason: "no currency"}}, skipped)
	require.Equal(t, []string{"EUR", "USD"}, Currencies(rows))
	require.Equal(t, []string{"Hetzner"}, UnknownProviders(rows))
	require.Equal(t, "Hetzner", rows[3].Cloud)

	day := TotalsByDay(rows)
	require.Len(t, day, 4, "currencies and clouds are never added together")
	for _, d := range day {
		require.Equal(t, time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC), d.Day)
		require.Equal(t, "2", d.Account)
	}
}

func TestSkipString(t *testing.T) {
	require.Equal(t, "line 3: not valid CSV", Skip{Line: 3, Reason: "not valid CSV"}.String())
	require.Equal(t, "line 3: Cost: bad", Skip{Line: 3, Field: "Cost", Reason: "bad"}.String())
	r := Row{File: "a.csv", Line: 7}
	require.Equal(t, "a.csv:7", r.Pos())
}

func TestReadFOCUSDuplicateAndNamelessColumns(t *testing.T) {
	input := focusHeader10 + ",BilledCost,\n" +
		"AWS,1,2,Usage,,2024-09-01,,EC2,r,i,1,h,1,1,1,1,USD,,99,x\n"
	rows, skipped, err := readString(ReadFOCUS, input)
	require.NoError(t, err)
	require.Equal(t, 1.0, rows[0].BilledCost, "the first of duplicate columns counts")
	require.Equal(t, []string{"BilledCost", ""}, IgnoredColumns(skipped))
}
