package billing

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
)

// sniffBytes is how much of a file DetectFormat looks at.
const sniffBytes = 64 << 10

// DetectFormat looks at the first bytes of a billing export and says which
// format it is: Parquet by its magic number, newline-delimited JSON by its first
// brace, and CSV by the columns of its header. It returns a reader that still
// yields the whole input. An unknown format is an error that lists the formats
// Stratus reads.
func DetectFormat(r io.Reader, name string) (Format, io.Reader, error) {
	head, all, err := sniff(r, sniffBytes)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", name, err)
	}
	if bytes.HasPrefix(head, []byte(parquetMagic)) {
		return FormatCURParquet, all, nil
	}
	text := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\ufeff")), " \t\r\n")
	if bytes.HasPrefix(text, []byte("{")) {
		return FormatGCPJSON, all, nil
	}

	header, err := csv.NewReader(bytes.NewReader(text)).Read()
	if err != nil || len(header) < 2 {
		return "", nil, unknownFormat(name, "no CSV header")
	}
	columns := map[string]bool{}
	for _, h := range header {
		columns[normalise(h)] = true
	}
	switch {
	case columns["billedcost"] && columns["chargeperiodstart"]:
		return FormatFOCUS, all, nil
	case columns["lineitemlineitemtype"] || columns["lineitemunblendedcost"]:
		return FormatCUR, all, nil
	case columns["usagestarttime"] && columns["cost"]:
		return FormatGCP, all, nil
	case (columns["metercategory"] || columns["consumedservice"]) &&
		(columns["date"] || columns["usagedatetime"] || columns["usagedate"]):
		return FormatAzure, all, nil
	}
	return "", nil, unknownFormat(name, "header "+clip(strings.Join(header, ",")))
}

func unknownFormat(name, what string) error {
	known := make([]string, len(Formats))
	for i, f := range Formats {
		known[i] = string(f)
	}
	return fmt.Errorf("%s: not a billing export Stratus reads (%s); known formats: %s",
		name, what, strings.Join(known, ", "))
}

// Detect reads a billing export of any format Stratus knows, found by
// [DetectFormat], with the reader for that format.
func Detect(r io.Reader, name string) (rows []Row, skipped []Skip, err error) {
	format, all, err := DetectFormat(r, name)
	if err != nil {
		return nil, nil, err
	}
	return Reader(format)(all, name)
}

// ReadFunc is the signature every reader shares.
type ReadFunc func(r io.Reader, name string) (rows []Row, skipped []Skip, err error)

// Reader returns the reader of a format, nil for a format it does not know.
func Reader(format Format) ReadFunc {
	switch format {
	case FormatFOCUS:
		return ReadFOCUS
	case FormatCUR:
		return ReadCUR
	case FormatCURParquet:
		return ReadCURParquet
	case FormatGCP:
		return ReadGCP
	case FormatGCPJSON:
		return ReadGCPJSON
	case FormatAzure:
		return ReadAzure
	}
	return nil
}
