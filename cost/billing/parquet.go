package billing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
)

// parquetMagic opens and ends every Parquet file.
const parquetMagic = "PAR1"

// ReadCURParquet reads an AWS Cost and Usage Report 2.0 in Parquet. Columns are
// read by name, not through a fixed struct, because the columns of a CUR vary with
// its options and over time: each top-level column's value is turned into the text
// its CSV export would hold (timestamps as RFC 3339, decimals exactly, map columns
// such as resource_tags and product as JSON objects) and read as [ReadCUR] reads
// it, so that the CSV and Parquet exports of the same report give the same rows.
// Nested columns other than maps are not read and are reported as ignored. Row.Line
// is the 1-based row number; ignored columns are reported on line 0.
//
// The whole file is held in memory, because Parquet keeps its index at the end.
func ReadCURParquet(r io.Reader, name string) (rows []Row, skipped []Skip, err error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(data) < 8 || string(data[:4]) != parquetMagic || string(data[len(data)-4:]) != parquetMagic {
		return nil, nil, fmt.Errorf("%s: not a Parquet file (no PAR1 magic)", name)
	}

	// The Parquet library trusts the file's metadata and can panic on a file
	// that lies about itself; a damaged export must be an error, not a crash.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: damaged Parquet file: %v", name, p)
		}
	}()

	file, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: not a readable Parquet file: %w", name, err)
	}
	columns, err := newParquetColumns(file.Schema())
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}

	t, skips := newTable(name, FormatCURParquet, columns.header, 0, curKnown)
	for _, nested := range columns.unreadable {
		skips = append(skips, ignored(0, nested, "nested column other than a map, not read"))
	}
	if err := t.require(curRequired...); err != nil {
		return nil, skips, err
	}

	build := curBuild(FormatCURParquet)
	reader := parquet.NewReader(file)
	defer reader.Close()
	buf := make([]parquet.Row, 128)
	line := 0
	for {
		n, readErr := reader.ReadRows(buf)
		for _, values := range buf[:n] {
			line++
			rec := &record{t: t, fields: columns.text(values), line: line}
			built, _ := build(rec)
			if rec.fault != nil {
				skips = append(skips, *rec.fault)
				continue
			}
			rows = append(rows, built...)
		}
		if errors.Is(readErr, io.EOF) {
			return rows, skips, nil
		}
		if readErr != nil {
			return rows, skips, fmt.Errorf("%s: row %d: %w", name, line+1, readErr)
		}
	}
}

// parquetColumns knows, for each top-level column of a schema, which leaf
// columns hold its values and how to write them as text.
type parquetColumns struct {
	header     []string
	leaves     [][]int // per top-level column, its leaf column indexes
	isMap      []bool
	types      []parquet.Type // per leaf column
	numLeaves  int
	unreadable []string
}

func newParquetColumns(schema *parquet.Schema) (*parquetColumns, error) {
	c := &parquetColumns{}
	top := map[string]int{}
	for i, path := range schema.Columns() {
		leaf, ok := schema.Lookup(path...)
		if !ok || len(path) == 0 {
			return nil, fmt.Errorf("schema column %d (%s) has no leaf", i, strings.Join(path, "."))
		}
		c.types = append(c.types, leaf.Node.Type())
		field, seen := top[path[0]]
		if !seen {
			field = len(c.header)
			top[path[0]] = field
			c.header = append(c.header, path[0])
			c.leaves = append(c.leaves, nil)
			c.isMap = append(c.isMap, false)
		}
		c.leaves[field] = append(c.leaves[field], leaf.ColumnIndex)
	}
	c.numLeaves = len(c.types)

	for field, leaves := range c.leaves {
		if len(leaves) == 1 {
			continue
		}
		paths := schema.Columns()
		if len(leaves) == 2 && last(paths[leaves[0]]) == "key" && last(paths[leaves[1]]) == "value" {
			c.isMap[field] = true
			continue
		}
		c.unreadable = append(c.unreadable, c.header[field])
	}
	return c, nil
}

func last(path []string) string {
	if len(path) == 0 {
		return ""
	}
	return path[len(path)-1]
}

// text returns one row's top-level columns as the CSV export would write them.
func (c *parquetColumns) text(row parquet.Row) []string {
	byLeaf := make([][]parquet.Value, c.numLeaves)
	for _, v := range row {
		if col := v.Column(); col >= 0 && col < c.numLeaves {
			byLeaf[col] = append(byLeaf[col], v)
		}
	}

	fields := make([]string, len(c.header))
	for field, leaves := range c.leaves {
		switch {
		case c.isMap[field]:
			fields[field] = c.mapText(byLeaf[leaves[0]], byLeaf[leaves[1]], leaves[1])
		case len(leaves) == 1 && len(byLeaf[leaves[0]]) > 0:
			fields[field] = valueText(byLeaf[leaves[0]][0], c.types[leaves[0]])
		}
	}
	return fields
}

// mapText writes a map column's entries as a JSON object; "" for no entries.
func (c *parquetColumns) mapText(keys, values []parquet.Value, valueLeaf int) string {
	object := map[string]string{}
	for i, k := range keys {
		if k.IsNull() {
			continue
		}
		v := ""
		if i < len(values) {
			v = valueText(values[i], c.types[valueLeaf])
		}
		object[string(k.ByteArray())] = v
	}
	if len(object) == 0 {
		return ""
	}
	b, _ := json.Marshal(object)
	return string(b)
}

// valueText writes one Parquet value as text: timestamps in RFC 3339 UTC,
// decimals exactly, floating point with the fewest digits that read back the
// same number.
func valueText(v parquet.Value, typ parquet.Type) string {
	if v.IsNull() {
		return ""
	}
	if lt := typ.LogicalType(); lt != nil {
		switch logical := lt.Value.(type) {
		case *format.TimestampType:
			return timestampText(v, logical.Unit.Value)
		case *format.DecimalType:
			return decimalText(v, int(logical.Scale))
		case *format.DateType:
			return time.Unix(int64(v.Int32())*86400, 0).UTC().Format(time.DateOnly)
		}
	}
	if ct := typ.ConvertedType(); ct != nil {
		switch *ct {
		case deprecated.TimestampMillis:
			return timestampText(v, &format.MilliSeconds{})
		case deprecated.TimestampMicros:
			return timestampText(v, &format.MicroSeconds{})
		}
	}

	switch v.Kind() {
	case parquet.Boolean:
		return strconv.FormatBool(v.Boolean())
	case parquet.Int32:
		return strconv.FormatInt(int64(v.Int32()), 10)
	case parquet.Int64:
		return strconv.FormatInt(v.Int64(), 10)
	case parquet.Int96:
		return int96Text(v.Int96())
	case parquet.Float:
		return strconv.FormatFloat(float64(v.Float()), 'g', -1, 32)
	case parquet.Double:
		return strconv.FormatFloat(v.Double(), 'g', -1, 64)
	default:
		return string(v.ByteArray())
	}
}

func timestampText(v parquet.Value, unit format.TimeUnitValue) string {
	n := v.Int64()
	var t time.Time
	switch unit.(type) {
	case *format.MilliSeconds:
		t = time.UnixMilli(n)
	case *format.MicroSeconds:
		t = time.UnixMicro(n)
	default:
		t = time.Unix(0, n)
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// int96Text reads the legacy Impala/Spark timestamp: nanoseconds of the day in
// the first 8 bytes, the Julian day in the last 4.
func int96Text(i deprecated.Int96) string {
	const julianUnixEpoch = 2440588
	nanos := int64(i[1])<<32 | int64(i[0])
	days := int64(i[2]) - julianUnixEpoch
	return time.Unix(days*86400, nanos).UTC().Format(time.RFC3339Nano)
}

// decimalText writes an unscaled integer (INT32, INT64 or big-endian two's
// complement bytes) with scale digits after the point.
func decimalText(v parquet.Value, scale int) string {
	unscaled := new(big.Int)
	switch v.Kind() {
	case parquet.Int32:
		unscaled.SetInt64(int64(v.Int32()))
	case parquet.Int64:
		unscaled.SetInt64(v.Int64())
	default:
		b := v.ByteArray()
		unscaled.SetBytes(b)
		if len(b) > 0 && b[0]&0x80 != 0 {
			unscaled.Sub(unscaled, new(big.Int).Lsh(big.NewInt(1), uint(len(b))*8))
		}
	}
	if scale <= 0 || scale > 76 {
		return unscaled.String()
	}

	digits := unscaled.String()
	sign := ""
	if strings.HasPrefix(digits, "-") {
		sign, digits = "-", digits[1:]
	}
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	point := len(digits) - scale
	return sign + digits[:point] + "." + digits[point:]
}
