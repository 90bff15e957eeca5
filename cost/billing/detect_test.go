package billing

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		path   string
		format Format
		rows   int
	}{
		{focusSamplePath, FormatFOCUS, 1000},
		{curFixture, FormatCUR, 11},
		{"testdata/gcp_billing.jsonl", FormatGCPJSON, 8},
		{"testdata/gcp_billing.csv", FormatGCP, 8},
		{"testdata/azure_ea.csv", FormatAzure, 6},
		{"testdata/azure_mca.csv", FormatAzure, 3},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			data, err := os.ReadFile(tt.path)
			require.NoError(t, err)
			format, all, err := DetectFormat(bytes.NewReader(data), tt.path)
			require.NoError(t, err)
			require.Equal(t, tt.format, format)
			rest := new(bytes.Buffer)
			_, err = rest.ReadFrom(all)
			require.NoError(t, err)
			require.Equal(t, data, rest.Bytes(), "nothing of the input is lost")

			rows, _, err := Detect(bytes.NewReader(data), tt.path)
			require.NoError(t, err)
			require.Len(t, rows, tt.rows)
			require.Equal(t, tt.format, rows[0].Format)
		})
	}
}

func TestDetectUnknown(t *testing.T) {
	for name, input := range map[string]string{
		"header": "a,b,c\n1,2,3\n",
		"empty":  "",
		"binary": "\x00\x01\x02",
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := Detect(strings.NewReader(input), "x.bin")
			require.ErrorContains(t, err, "x.bin: not a billing export Stratus reads")
			require.ErrorContains(t, err,
				"known formats: aws-cur-parquet, gcp-bigquery-json, focus, aws-cur, gcp-bigquery-csv, azure-cost-csv")
		})
	}
	require.Nil(t, Reader("nope"))
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestReadErrors(t *testing.T) {
	_, _, err := Detect(failingReader{}, "f.csv")
	require.ErrorContains(t, err, "f.csv: disk on fire")
	for _, read := range []ReadFunc{ReadFOCUS, ReadCURParquet, ReadGCPJSON} {
		_, _, err := read(failingReader{}, "f.csv")
		require.ErrorContains(t, err, "disk on fire")
	}

	// A failure after the header is an error too, with the rows read so far.
	header := focusHeader10 + "\nAWS,1,2,Usage,,2024-09-01,,EC2,r,i,1,h,1,1,1,1,USD,\n"
	rows, _, err := ReadFOCUS(&halfReader{data: []byte(header)}, "h.csv")
	require.ErrorContains(t, err, "h.csv: disk on fire")
	require.Len(t, rows, 1)
	rows, _, err = ReadGCPJSON(&halfReader{data: []byte(
		`{"cost":1,"currency":"USD","usage_start_time":"2024-09-01","service":{"id":"1"}}` + "\n")}, "h.json")
	require.ErrorContains(t, err, "h.json: line 2: disk on fire")
	require.Len(t, rows, 1)
}

// halfReader yields its data, then fails.
type halfReader struct {
	data []byte
}

func (h *halfReader) Read(p []byte) (int, error) {
	if len(h.data) == 0 {
		return 0, errors.New("disk on fire")
	}
	n := copy(p, h.data)
	h.data = h.data[n:]
	return n, nil
}
