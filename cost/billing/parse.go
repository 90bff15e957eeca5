package billing

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// normalise reduces a column name to lower-case letters and digits, so that the
// spellings exports use for the same column meet: FOCUS "BilledCost", Azure MCA
// "costInBillingCurrency" and EA "CostInBillingCurrency", CUR 2.0
// "line_item_unblended_cost" and CUR 1 "lineItem/UnblendedCost", BigQuery
// "service.description" and its flattened "service_description".
func normalise(name string) string {
	var b strings.Builder
	for _, c := range strings.ToLower(name) {
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// table is the header of a tabular export: where each (normalised) column is.
type table struct {
	file   string
	format Format
	header []string
	index  map[string]int
}

// newTable indexes a header. known says whether a normalised column name is one
// the format defines; each column that is not, and each duplicate, is reported
// once as an IgnoredColumn skip on headerLine.
func newTable(file string, format Format, header []string, headerLine int,
	known func(norm, name string) bool,
) (*table, []Skip) {
	t := &table{file: file, format: format, header: header, index: map[string]int{}}
	var skips []Skip
	for i, name := range header {
		if i == 0 {
			name = strings.TrimPrefix(name, "\ufeff")
			header[0] = name
		}
		norm := normalise(name)
		_, dup := t.index[norm]
		switch {
		case norm == "":
			skips = append(skips, ignored(headerLine, name, "column without a name"))
		case dup:
			skips = append(skips, ignored(headerLine, name, "duplicate column"))
		case strings.HasPrefix(strings.ToLower(name), "x_"):
			t.index[norm] = i
			skips = append(skips, ignored(headerLine, name, "vendor column (x_), not read"))
		case !known(norm, name):
			t.index[norm] = i
			skips = append(skips, ignored(headerLine, name, "unknown column, not read"))
		default:
			t.index[norm] = i
		}
	}
	return t, skips
}

func ignored(line int, field, reason string) Skip {
	return Skip{Kind: IgnoredColumn, Line: line, Field: field, Reason: reason}
}

// has reports whether any of the normalised names is a column.
func (t *table) has(names ...string) bool {
	for _, n := range names {
		if _, ok := t.index[n]; ok {
			return true
		}
	}
	return false
}

// require returns an error naming the file and the missing columns unless each
// group has at least one of its alternatives (given as header spellings).
func (t *table) require(groups ...[]string) error {
	var missing []string
	for _, alternatives := range groups {
		found := false
		for _, name := range alternatives {
			if t.has(normalise(name)) {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, strings.Join(alternatives, " or "))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s: not a %s export: required column %s missing",
			t.file, t.format, strings.Join(missing, ", "))
	}
	return nil
}

// record is one row of a table being read. Accessors take normalised column
// names, try them in order, and return the first that is present; the first
// value that cannot be parsed is kept in fault and makes the row a skip.
type record struct {
	t      *table
	fields []string
	line   int
	fault  *Skip
}

// raw returns the first present column's value, trimmed, and its header name.
func (r *record) raw(names ...string) (value, column string, ok bool) {
	for _, n := range names {
		i, present := r.t.index[n]
		if !present || i >= len(r.fields) {
			continue
		}
		return strings.TrimSpace(r.fields[i]), r.t.header[i], true
	}
	return "", "", false
}

// isNull reports whether a value means "unknown": empty or the literal NULL.
func isNull(v string) bool {
	return v == "" || strings.EqualFold(v, "null")
}

// str returns the first present column's value, "" when unknown. A column that
// is present but null stops the search, so that an alias never overrides it.
func (r *record) str(names ...string) string {
	v, _, _ := r.raw(names...)
	if isNull(v) {
		return ""
	}
	return v
}

// firstStr returns the first non-null value among the columns.
func (r *record) firstStr(names ...string) string {
	for _, n := range names {
		if v := r.str(n); v != "" {
			return v
		}
	}
	return ""
}

func (r *record) fail(column, format string, args ...any) {
	if r.fault == nil {
		r.fault = &Skip{
			Kind: SkippedRow, Line: r.line, Field: column,
			Reason: fmt.Sprintf(format, args...),
		}
	}
}

// num returns the first present column's number, NaN when unknown. Garbage,
// NaN and infinities make the row a skip.
func (r *record) num(names ...string) float64 {
	v, column, _ := r.raw(names...)
	if isNull(v) {
		return math.NaN()
	}
	f, err := parseNumber(v)
	if err != nil {
		r.fail(column, "%v", err)
		return math.NaN()
	}
	return f
}

// time returns the first present column's time in UTC, the zero time when
// unknown.
func (r *record) time(names ...string) time.Time {
	v, column, _ := r.raw(names...)
	if isNull(v) {
		return time.Time{}
	}
	t, err := parseTime(v)
	if err != nil {
		r.fail(column, "%v", err)
	}
	return t
}

// tags returns the first present column's tags, nil when unknown.
func (r *record) tags(names ...string) map[string]string {
	v, column, _ := r.raw(names...)
	if isNull(v) {
		return nil
	}
	tags, err := parseTags(v)
	if err != nil {
		r.fail(column, "%v", err)
	}
	return tags
}

// parseNumber parses a decimal number as billing exports write it. Hexadecimal
// and underscore forms, NaN, infinities and values out of float64 range are errors.
func parseNumber(s string) (float64, error) {
	if strings.IndexFunc(s, notDecimal) >= 0 {
		return math.NaN(), fmt.Errorf("%q is not a number", clip(s))
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return math.NaN(), fmt.Errorf("%q is not a finite number", clip(s))
	}
	return f, nil
}

// notDecimal reports whether c cannot be part of a decimal number.
func notDecimal(c rune) bool {
	return (c < '0' || c > '9') && !strings.ContainsRune(".-+eE", c)
}

// timeLayouts are the time forms billing exports write: FOCUS sample data
// ("2024-09-01 00:00:00"), RFC 3339 (FOCUS, CUR), without a zone, a bare date
// (Azure), and Azure's month/day/year. Times without a zone are UTC.
var timeLayouts = []string{
	"2006-01-02 15:04:05",
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
	"1/2/2006",
	"1/2/2006 15:04:05",
	"1/2/2006 3:04:05 PM",
}

// parseTime parses a time as billing exports write it and returns it in UTC. A
// trailing " UTC" (BigQuery) is accepted; other zone abbreviations are not,
// because they are ambiguous.
func parseTime(s string) (time.Time, error) {
	v := strings.TrimSuffix(strings.TrimSuffix(s, " UTC"), " +00:00")
	for _, layout := range timeLayouts {
		t, err := time.Parse(layout, v)
		if err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (want e.g. 2024-09-01 00:00:00 or RFC 3339)",
		clip(s))
}

// parseTags reads tags or labels: a JSON object (FOCUS Tags, CUR 2.0
// resource_tags), Azure's JSON object without its braces ("k": "v", ...), or a
// JSON array of {"key", "value"} objects (BigQuery labels). Values that are not
// strings are written as JSON.
func parseTags(s string) (map[string]string, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") {
		var pairs []struct {
			Key   string `json:"key"`
			Value any    `json:"value"`
		}
		if err := json.Unmarshal([]byte(s), &pairs); err != nil {
			return nil, fmt.Errorf("labels are not a JSON array of key/value objects: %w", err)
		}
		tags := make(map[string]string, len(pairs))
		for _, p := range pairs {
			tags[p.Key] = tagValue(p.Value)
		}
		return tags, nil
	}

	if !strings.HasPrefix(s, "{") {
		s = "{" + s + "}"
	}
	var object map[string]any
	if err := json.Unmarshal([]byte(s), &object); err != nil {
		return nil, fmt.Errorf("tags are not a JSON object: %w", err)
	}
	tags := make(map[string]string, len(object))
	for k, v := range object {
		tags[k] = tagValue(v)
	}
	return tags, nil
}

func tagValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

// clip shortens a value quoted in an error, so that a garbage field does not
// flood a log line.
func clip(s string) string {
	const limit = 40
	if len(s) <= limit {
		return s
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// csvSource reads the records of a CSV export with their line numbers.
type csvSource struct {
	file string
	r    *csv.Reader
}

func newCSV(r io.Reader, file string) *csvSource {
	c := csv.NewReader(r)
	c.FieldsPerRecord = -1
	c.ReuseRecord = false
	return &csvSource{file: file, r: c}
}

// header reads the first record; it is an error when there is none.
func (c *csvSource) header() ([]string, error) {
	header, err := c.r.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: empty file, no CSV header", c.file)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: no CSV header: %w", c.file, err)
	}
	return header, nil
}

// next returns the next record and its line. A record CSV cannot parse comes
// back as a skip; ok is false at the end of the input, and err is set when the
// input itself fails.
func (c *csvSource) next() (fields []string, line int, skip *Skip, ok bool, err error) {
	fields, err = c.r.Read()
	if errors.Is(err, io.EOF) {
		return nil, 0, nil, false, nil
	}
	var parseErr *csv.ParseError
	if errors.As(err, &parseErr) {
		return nil, parseErr.StartLine, &Skip{
			Kind: SkippedRow, Line: parseErr.StartLine,
			Reason: fmt.Sprintf("not valid CSV: %v", parseErr.Err),
		}, true, nil
	}
	if err != nil {
		return nil, 0, nil, false, fmt.Errorf("%s: %w", c.file, err)
	}
	line, _ = c.r.FieldPos(0)
	return fields, line, nil, true, nil
}

// readCSV reads a CSV export: the header through newTable and require, then
// each record through build, which returns false for a row to leave out
// silently (such as a blank line). Records with the wrong number of fields
// and rows build faults are skips.
func readCSV(r io.Reader, file string, format Format,
	known func(norm, name string) bool, required [][]string,
	build func(rec *record) ([]Row, bool),
) ([]Row, []Skip, error) {
	src := newCSV(r, file)
	header, err := src.header()
	if err != nil {
		return nil, nil, err
	}
	t, skips := newTable(file, format, header, 1, known)
	if err := t.require(required...); err != nil {
		return nil, skips, err
	}

	var rows []Row
	for {
		fields, line, skip, ok, err := src.next()
		if err != nil {
			return rows, skips, err
		}
		if !ok {
			return rows, skips, nil
		}
		if skip != nil {
			skips = append(skips, *skip)
			continue
		}
		if len(fields) == 1 && strings.TrimSpace(fields[0]) == "" {
			continue
		}
		if len(fields) != len(header) {
			skips = append(skips, Skip{
				Kind: SkippedRow, Line: line,
				Reason: fmt.Sprintf("%d fields, the header has %d", len(fields), len(header)),
			})
			continue
		}
		rec := &record{t: t, fields: fields, line: line}
		built, _ := build(rec)
		if rec.fault != nil {
			skips = append(skips, *rec.fault)
			continue
		}
		rows = append(rows, built...)
	}
}

// requireBilled makes a row without a billed cost a skip: reconciliation is
// about billed cost, and a silent zero would hide the gap.
func requireBilled(rec *record, row *Row, columns ...string) {
	if !math.IsNaN(row.BilledCost) || rec.fault != nil {
		return
	}
	_, column, _ := rec.raw(columns...)
	rec.fail(column, "no billed cost")
}

// requireCurrency skips a row without a currency: its cost cannot be added to
// any other, and taking it for the export's currency would be a guess.
func requireCurrency(rec *record, row *Row, columns ...string) {
	if row.Currency != "" || rec.fault != nil {
		return
	}
	_, column, _ := rec.raw(columns...)
	rec.fail(column, "no currency")
}

// sniff returns the first bytes of r and a reader that still yields all of it.
func sniff(r io.Reader, n int) ([]byte, io.Reader, error) {
	head := make([]byte, n)
	got, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, nil, err
	}
	head = head[:got]
	return head, io.MultiReader(bytes.NewReader(head), r), nil
}
