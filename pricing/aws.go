package pricing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	awspricing "github.com/aws/aws-sdk-go-v2/service/pricing"
	"github.com/aws/aws-sdk-go-v2/service/pricing/types"
	"github.com/aws/smithy-go/logging"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	httpretry "github.com/stratus-monitoring/stratus/internal/retry"
)

// AWSPriceListSource is the source name of prices read from the AWS Price List
// Query API.
const AWSPriceListSource = "aws-price-list"

const (
	// awsPriceListRegion is where the Price List Query API is served from. It
	// prices every commercial and GovCloud region, whichever region asks.
	awsPriceListRegion = "us-east-1"
	// awsPageSize is the largest page GetProducts returns.
	awsPageSize = 100
	// awsMaxPages stops a server that keeps handing out new page tokens: the
	// largest query (Linux compute in a big region) takes about ten pages.
	awsMaxPages = 1000
	// awsDefaultMaxAttempts and awsDefaultMaxBackoff are the SDK's own
	// standard-retry defaults, written out so that they are visible here.
	awsDefaultMaxAttempts = 5
	awsDefaultMaxBackoff  = 20 * time.Second
	// awsMaxReportedErrors bounds how many skipped documents an error message
	// spells out; AWSSkipError keeps them all.
	awsMaxReportedErrors = 5
)

// AWSOptions configures an AWSFetcher. Only Regions comes from the
// configuration file; the other fields are set by code.
type AWSOptions struct {
	// Regions are the region codes to price (us-east-1, eu-west-1, …).
	Regions []string `yaml:"regions"`

	// Credentials sign the requests. Nil means the SDK's default chain:
	// environment, shared files, web identity, container and instance roles.
	// They are never logged and never part of an error.
	Credentials aws.CredentialsProvider `yaml:"-"`
	// Endpoint replaces the API's address. Tests point it at a local server.
	Endpoint string `yaml:"-"`
	// HTTPClient sends the requests; nil means the SDK's default client.
	HTTPClient *http.Client `yaml:"-"`
	// MaxAttempts bounds the attempts per request, retries included; zero
	// means 5.
	MaxAttempts int `yaml:"-"`
	// MaxBackoff caps the wait between two attempts, Retry-After included;
	// zero means 20 s. Tests shrink it so that retries take no real time.
	MaxBackoff time.Duration `yaml:"-"`
	// Now says when a fetch happens, for prices whose document has no
	// publication date; nil means time.Now.
	Now func() time.Time `yaml:"-"`
	// Logger receives one debug line per skipped document and per query.
	// Nil discards.
	Logger *slog.Logger `yaml:"-"`
}

// String describes the options without the credentials, so that printing
// them with %v cannot leak a secret.
func (o AWSOptions) String() string {
	s := fmt.Sprintf("regions=%v", o.Regions)
	if o.Endpoint != "" {
		s += " endpoint=" + o.Endpoint
	}
	return s
}

// AWSFetcher is a Fetcher for the AWS Price List Query API. It reads on-demand
// list prices of Linux instances on shared tenancy, EBS volumes and data
// transfer out to the internet for each configured region. A fetch runs its
// queries one after another: the API throttles callers that hurry.
type AWSFetcher struct {
	client  *awspricing.Client
	regions []string
	now     func() time.Time
	logger  *slog.Logger
}

var _ Fetcher = (*AWSFetcher)(nil)

// awsRegionCode is the shape of an AWS region code: us-east-1,
// ap-southeast-2, us-gov-west-1.
var awsRegionCode = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)

// NewAWSFetcher returns a fetcher for opts.Regions. It loads the SDK's
// configuration (and, without opts.Credentials, its credential chain) but
// sends no request.
func NewAWSFetcher(ctx context.Context, opts AWSOptions) (*AWSFetcher, error) {
	if err := awsCheckRegions(opts.Regions); err != nil {
		return nil, fmt.Errorf("%s: %w", AWSPriceListSource, err)
	}
	if opts.Endpoint != "" {
		u, err := url.Parse(opts.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%s: endpoint %q: want http(s)://host[:port]",
				AWSPriceListSource, opts.Endpoint)
		}
	}
	maxAttempts := opts.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = awsDefaultMaxAttempts
	}
	maxBackoff := opts.MaxBackoff
	if maxBackoff <= 0 {
		maxBackoff = awsDefaultMaxBackoff
	}

	// The SDK's logger is silenced and request logging is off: a request log
	// would carry the signature, and nothing the SDK has to say is worth
	// more than the errors Fetch returns.
	loadOpts := []func(*config.LoadOptions) error{
		config.WithRegion(awsPriceListRegion),
		config.WithLogger(logging.Nop{}),
		config.WithClientLogMode(0),
		config.WithRetryer(func() aws.Retryer {
			return awsNewRetryer(maxAttempts, maxBackoff)
		}),
	}
	if opts.Credentials != nil {
		loadOpts = append(loadOpts, config.WithCredentialsProvider(opts.Credentials))
	}
	if opts.HTTPClient != nil {
		loadOpts = append(loadOpts, config.WithHTTPClient(opts.HTTPClient))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("%s: loading the AWS SDK configuration: %w",
			AWSPriceListSource, err)
	}
	client := awspricing.NewFromConfig(cfg, func(o *awspricing.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
	})

	f := &AWSFetcher{
		client:  client,
		regions: slices.Clone(opts.Regions),
		now:     opts.Now,
		logger:  opts.Logger,
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.logger == nil {
		f.logger = slog.New(slog.DiscardHandler)
	}
	return f, nil
}

// awsCheckRegions accepts a non-empty list of distinct region codes that the
// global Price List API prices in US dollars.
func awsCheckRegions(regions []string) error {
	if len(regions) == 0 {
		return errors.New("no regions configured")
	}
	seen := make(map[string]bool, len(regions))
	for _, r := range regions {
		switch {
		case !awsRegionCode.MatchString(r):
			return fmt.Errorf("region %q is not an AWS region code such as us-east-1", r)
		case strings.HasPrefix(r, "cn-"):
			// China regions have their own Price List endpoint and price in CNY.
			return fmt.Errorf("region %q: China regions are not priced by this API", r)
		case seen[r]:
			return fmt.Errorf("region %q is listed twice", r)
		}
		seen[r] = true
	}
	return nil
}

// Name returns AWSPriceListSource.
func (f *AWSFetcher) Name() string { return AWSPriceListSource }

// Fetch reads the prices of every configured region. A query that fails after
// the SDK's retries is reported and the others still run; a document that
// cannot be decoded or priced is skipped and counted in an *AWSSkipError. The
// error joins both. Fetch stops at once when ctx ends.
func (f *AWSFetcher) Fetch(ctx context.Context) ([]Price, error) {
	fetchedAt := f.now().UTC()
	skips := &AWSSkipError{}
	var prices []Price
	var queryErrs []error

	for _, region := range f.regions {
		for _, q := range awsQueries(region) {
			got, err := f.runQuery(ctx, q, fetchedAt, skips)
			prices = append(prices, got...)
			if err == nil {
				continue
			}
			queryErrs = append(queryErrs, err)
			if ctx.Err() != nil {
				return awsDedupe(prices, skips), awsFetchError(queryErrs, skips)
			}
		}
	}
	return awsDedupe(prices, skips), awsFetchError(queryErrs, skips)
}

// awsFetchError joins what went wrong in a fetch; nil when nothing did.
func awsFetchError(queryErrs []error, skips *AWSSkipError) error {
	if len(skips.Skipped) > 0 {
		queryErrs = append(queryErrs, skips)
	}
	return errors.Join(queryErrs...)
}

// runQuery pages through one query and decodes its documents. Prices of the
// pages read before a failure are returned with the error.
func (f *AWSFetcher) runQuery(
	ctx context.Context,
	q awsQuery,
	fetchedAt time.Time,
	skips *AWSSkipError,
) ([]Price, error) {
	input := &awspricing.GetProductsInput{
		ServiceCode:   aws.String(q.serviceCode),
		Filters:       q.filters(),
		FormatVersion: aws.String("aws_v1"),
		MaxResults:    aws.Int32(awsPageSize),
	}
	pages := awspricing.NewGetProductsPaginator(f.client, input,
		func(o *awspricing.GetProductsPaginatorOptions) { o.StopOnDuplicateToken = true })

	var prices []Price
	read := 0
	token := ""
	for page := 1; pages.HasMorePages(); page++ {
		if page > awsMaxPages {
			return prices, fmt.Errorf("%s: %s: more than %d pages",
				AWSPriceListSource, q, awsMaxPages)
		}
		out, err := pages.NextPage(ctx)
		if err != nil {
			return prices, fmt.Errorf("%s: %s, page %d: %w", AWSPriceListSource, q, page, err)
		}
		prices = append(prices, f.decodePage(out.PriceList, q, fetchedAt, read, skips)...)
		read += len(out.PriceList)

		// The paginator stops quietly on a repeated token; the rest of the
		// query would be missing without a word.
		next := aws.ToString(out.NextToken)
		if next != "" && next == token {
			return prices, fmt.Errorf("%s: %s, page %d: the server repeated page token %q",
				AWSPriceListSource, q, page, next)
		}
		token = next
	}
	f.logger.Debug("read AWS price list", "source", AWSPriceListSource,
		"region", q.region, "query", string(q.kind), "documents", read, "prices", len(prices))
	return prices, nil
}

// decodePage decodes one page of documents, the first of which is the
// query's document number first. What cannot be used goes to skips.
func (f *AWSFetcher) decodePage(
	docs []string,
	q awsQuery,
	fetchedAt time.Time,
	first int,
	skips *AWSSkipError,
) []Price {
	var prices []Price
	for i, doc := range docs {
		skips.Read++
		p, ok, err := awsDecodeDocument(doc, q, fetchedAt)
		if err == nil && ok {
			err = p.Validate()
		}
		switch {
		case err != nil:
			skips.add(&AWSDocumentError{
				Query: q.String(), Index: first + i, SKU: awsSKU(doc), Err: err,
			})
			f.logger.Debug("skipped AWS price document", "source", AWSPriceListSource,
				"region", q.region, "query", string(q.kind), "index", first+i, "err", err)
		case ok:
			prices = append(prices, p)
		}
	}
	return prices
}

// awsDedupe drops a price whose key an earlier one already has. Two documents
// that agree are harmless; two that disagree are reported, since either price
// may be the wrong one, and the first is kept.
func awsDedupe(prices []Price, skips *AWSSkipError) []Price {
	first := make(map[Key]float64, len(prices))
	kept := prices[:0]
	for _, p := range prices {
		v, seen := first[p.Key]
		switch {
		case !seen:
			first[p.Key] = p.Value
			kept = append(kept, p)
		case v != p.Value:
			skips.add(&AWSDocumentError{
				Query: p.Region + " " + string(p.Kind), Index: -1,
				Err: fmt.Errorf("%s: %w: %v and %v", p.Key, errAWSConflict, v, p.Value),
			})
		}
	}
	return kept
}

// AWSDocumentError says why one price document was skipped.
type AWSDocumentError struct {
	// Query names the query that returned the document: its region and what
	// it prices ("us-east-1 compute").
	Query string
	// Index is the document's position in the query's results, from 0; -1
	// when the error concerns several documents.
	Index int
	// SKU is the document's product SKU where it could be read.
	SKU string
	// Err is the reason, one of the package's sentinel errors wrapped with
	// detail, or the error of Price.Validate.
	Err error
}

// Error names the document and what is wrong with it.
func (e *AWSDocumentError) Error() string {
	s := e.Query
	if e.Index >= 0 {
		s += fmt.Sprintf(" document %d", e.Index)
	}
	if e.SKU != "" {
		s += " (sku " + e.SKU + ")"
	}
	return s + ": " + e.Err.Error()
}

// Unwrap returns the reason the document was skipped.
func (e *AWSDocumentError) Unwrap() error { return e.Err }

// AWSSkipError reports the price documents of a fetch that were read but not
// used. Skipped holds one *AWSDocumentError per document.
type AWSSkipError struct {
	// Read counts the documents the fetch received.
	Read int
	// Skipped holds why each unused document was not used.
	Skipped []error
}

func (e *AWSSkipError) add(err *AWSDocumentError) { e.Skipped = append(e.Skipped, err) }

// Error counts the skipped documents and spells out the first few.
func (e *AWSSkipError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: skipped %d of %d price documents", AWSPriceListSource,
		len(e.Skipped), e.Read)
	for i, err := range e.Skipped {
		if i == awsMaxReportedErrors {
			fmt.Fprintf(&b, "; and %d more", len(e.Skipped)-i)
			break
		}
		b.WriteString("; ")
		b.WriteString(err.Error())
	}
	return b.String()
}

// Unwrap returns every skipped document's error.
func (e *AWSSkipError) Unwrap() []error { return e.Skipped }

// Reasons a document is skipped.
var (
	errAWSMalformed     = errors.New("malformed price document")
	errAWSWrongProduct  = errors.New("product does not match the query")
	errAWSNoOnDemand    = errors.New("no on-demand term")
	errAWSSeveralTerms  = errors.New("several on-demand terms")
	errAWSUnit          = errors.New("unexpected unit")
	errAWSSeveralHourly = errors.New("several hourly price dimensions")
	errAWSNoPaidTier    = errors.New("no paid tier")
	errAWSPrice         = errors.New("unusable price")
	errAWSSize          = errors.New("unreadable instance size")
	errAWSConflict      = errors.New("documents disagree on the price")
)

// awsQueryKind says what a query prices and how its documents decode.
type awsQueryKind string

const (
	awsQueryCompute   awsQueryKind = "compute"
	awsQueryBareMetal awsQueryKind = "bare-metal compute"
	awsQueryStorage   awsQueryKind = "storage"
	awsQueryEgress    awsQueryKind = "egress"
)

// awsQuery is one GetProducts query: a service code and TERM_MATCH filters.
type awsQuery struct {
	region      string
	kind        awsQueryKind
	serviceCode string
	family      string
	// match lists the attributes besides productFamily, as name-value pairs.
	match [][2]string
}

// String names the query in errors.
func (q awsQuery) String() string { return q.region + " " + string(q.kind) }

// filters returns the query's TERM_MATCH filters, productFamily first.
func (q awsQuery) filters() []types.Filter {
	filters := []types.Filter{awsTermMatch("productFamily", q.family)}
	for _, m := range q.match {
		filters = append(filters, awsTermMatch(m[0], m[1]))
	}
	return filters
}

func awsTermMatch(field, value string) types.Filter {
	return types.Filter{
		Type:  types.FilterTypeTermMatch,
		Field: aws.String(field),
		Value: aws.String(value),
	}
}

// awsQueries returns the queries that price one region.
func awsQueries(region string) []awsQuery {
	instance := func(kind awsQueryKind, family, tenancy string) awsQuery {
		return awsQuery{
			region: region, kind: kind, serviceCode: "AmazonEC2", family: family,
			match: [][2]string{
				{"regionCode", region},
				{"operatingSystem", "Linux"},
				{"tenancy", tenancy},
				{"preInstalledSw", "NA"},
				// Used is a running instance; the other values price unused
				// capacity reservations.
				{"capacitystatus", "Used"},
				// Leaves out Capacity Blocks and other ways to buy.
				{"marketoption", "OnDemand"},
			},
		}
	}
	return []awsQuery{
		instance(awsQueryCompute, "Compute Instance", "Shared"),
		// A bare-metal instance is a whole host: AWS lists it as dedicated.
		instance(awsQueryBareMetal, "Compute Instance (bare metal)", "Dedicated"),
		{
			region: region, kind: awsQueryStorage, serviceCode: "AmazonEC2",
			family: "Storage", match: [][2]string{{"regionCode", region}},
		},
		{
			// Data transfer has its own service code, and names its region
			// fromRegionCode.
			region: region, kind: awsQueryEgress, serviceCode: "AWSDataTransfer",
			family: "Data Transfer",
			match: [][2]string{
				{"fromRegionCode", region},
				{"transferType", "AWS Outbound"},
				{"toLocation", "External"},
			},
		},
	}
}

// awsPriceDocument is one element of GetProducts' PriceList: a product, its
// terms and when the list was published.
type awsPriceDocument struct {
	Product struct {
		ProductFamily string               `json:"productFamily"`
		SKU           string               `json:"sku"`
		Attributes    awsProductAttributes `json:"attributes"`
	} `json:"product"`
	Terms struct {
		// OnDemand maps the SKU's offer term codes to terms; the other
		// purchase options (Reserved) are not read.
		OnDemand map[string]awsTerm `json:"OnDemand"`
	} `json:"terms"`
	PublicationDate string `json:"publicationDate"`
}

// awsProductAttributes holds the product attributes Stratus reads. AWS writes
// every attribute as a string.
type awsProductAttributes struct {
	RegionCode     string `json:"regionCode"`
	InstanceType   string `json:"instanceType"`
	VCPU           string `json:"vcpu"`
	Memory         string `json:"memory"`
	VolumeAPIName  string `json:"volumeApiName"`
	FromRegionCode string `json:"fromRegionCode"`
	TransferType   string `json:"transferType"`
}

// awsTerm is one offer term: its price dimensions, keyed by rate code.
type awsTerm struct {
	OfferTermCode   string                       `json:"offerTermCode"`
	PriceDimensions map[string]awsPriceDimension `json:"priceDimensions"`
}

// awsPriceDimension is one rate: a price per unit, for usage between
// beginRange and endRange where the rate is tiered.
type awsPriceDimension struct {
	Unit         string            `json:"unit"`
	BeginRange   string            `json:"beginRange"`
	EndRange     string            `json:"endRange"`
	Description  string            `json:"description"`
	PricePerUnit map[string]string `json:"pricePerUnit"`
}

// Units of the Price List, and the storage products Stratus prices. AWS meters
// these GB as 2^30 bytes (EBS volumes are sized in GiB), so they are GiB. A
// GB-Mo is prorated over the hours of the calendar month; Stratus counts 730.
const (
	awsUnitHours   = "Hrs"
	awsUnitGBMonth = "GB-Mo"
	awsUnitGB      = "GB"
)

var awsVolumeTypes = []string{"gp3", "gp2", "io2", "io1", "st1", "sc1", "standard"}

// awsDecodeDocument turns one PriceList element into a price. ok is false,
// with no error, for a valid product Stratus does not price (an EBS volume
// type it does not know).
func awsDecodeDocument(doc string, q awsQuery, fetchedAt time.Time) (Price, bool, error) {
	var d awsPriceDocument
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return Price{}, false, fmt.Errorf("%w: %w", errAWSMalformed, err)
	}
	if d.Product.ProductFamily != q.family {
		return Price{}, false, fmt.Errorf("%w: product family %q, want %q",
			errAWSWrongProduct, d.Product.ProductFamily, q.family)
	}
	region := d.Product.Attributes.RegionCode
	if q.kind == awsQueryEgress {
		region = d.Product.Attributes.FromRegionCode
	}
	if region != q.region {
		return Price{}, false, fmt.Errorf("%w: region %q, want %q",
			errAWSWrongProduct, region, q.region)
	}
	asOf, err := awsAsOf(d.PublicationDate, fetchedAt)
	if err != nil {
		return Price{}, false, err
	}
	term, err := awsOnDemandTerm(d.Terms.OnDemand)
	if err != nil {
		return Price{}, false, err
	}

	p := Price{
		Key:      Key{Cloud: "aws", Region: q.region, Purchase: OnDemand},
		Currency: "USD",
		Source:   AWSPriceListSource,
		AsOf:     asOf,
	}
	switch q.kind {
	case awsQueryCompute, awsQueryBareMetal:
		err = awsDecodeCompute(&p, d.Product.Attributes, term)
	case awsQueryStorage:
		if !slices.Contains(awsVolumeTypes, d.Product.Attributes.VolumeAPIName) {
			return Price{}, false, nil
		}
		err = awsDecodeStorage(&p, d.Product.Attributes, term)
	case awsQueryEgress:
		err = awsDecodeEgress(&p, d.Product.Attributes, term)
	default:
		err = fmt.Errorf("no decoder for %s", q.kind)
	}
	if err != nil {
		return Price{}, false, err
	}
	return p, true, nil
}

// awsAsOf is the document's publication date, or the fetch time when the
// document has none.
func awsAsOf(publicationDate string, fetchedAt time.Time) (time.Time, error) {
	if publicationDate == "" {
		return fetchedAt, nil
	}
	t, err := time.Parse(time.RFC3339, publicationDate)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: publicationDate: %w", errAWSMalformed, err)
	}
	return t.UTC(), nil
}

// awsOnDemandTerm returns the SKU's single on-demand term. Several would mean
// several prices for the same thing, with nothing to choose between them.
func awsOnDemandTerm(terms map[string]awsTerm) (awsTerm, error) {
	switch len(terms) {
	case 0:
		return awsTerm{}, errAWSNoOnDemand
	case 1:
		for _, t := range terms {
			return t, nil
		}
	}
	return awsTerm{}, fmt.Errorf("%w: %d", errAWSSeveralTerms, len(terms))
}

// awsDecodeCompute prices an instance type per hour and sizes it.
func awsDecodeCompute(p *Price, attrs awsProductAttributes, term awsTerm) error {
	dim, err := awsSingleDimension(term, awsUnitHours)
	if err != nil {
		return err
	}
	value, err := awsUSD(dim)
	if err != nil {
		return err
	}
	vcpu, err := strconv.ParseFloat(attrs.VCPU, 64)
	if err != nil || vcpu <= 0 {
		return fmt.Errorf("%w: vcpu %q", errAWSSize, attrs.VCPU)
	}
	memory, err := awsParseMemory(attrs.Memory)
	if err != nil {
		return err
	}

	if value == 0 {
		// No running instance is free: a zero here is a listing error.
		return fmt.Errorf("%w: zero hourly price", errAWSPrice)
	}

	p.Kind, p.Product, p.OS = KindCompute, attrs.InstanceType, "linux"
	p.Value, p.Unit = value, PerHour
	p.VCPU, p.MemoryGiB = vcpu, memory
	return nil
}

// awsDecodeStorage prices an EBS volume type per GiB-month.
func awsDecodeStorage(p *Price, attrs awsProductAttributes, term awsTerm) error {
	dim, err := awsSingleDimension(term, awsUnitGBMonth)
	if err != nil {
		return err
	}
	value, err := awsUSD(dim)
	if err != nil {
		return err
	}
	if value == 0 {
		return fmt.Errorf("%w: zero storage price", errAWSPrice)
	}
	p.Kind, p.Product = KindStorage, "ebs-"+attrs.VolumeAPIName
	p.Value, p.Unit = value, PerGiBMonth
	return nil
}

// awsDecodeEgress prices data transfer out to the internet per GiB, at the
// first tier that costs anything: the free allowance is not a price, and the
// cheaper tiers above it only apply to very large volumes.
func awsDecodeEgress(p *Price, attrs awsProductAttributes, term awsTerm) error {
	if attrs.TransferType != "AWS Outbound" {
		return fmt.Errorf("%w: transferType %q", errAWSWrongProduct, attrs.TransferType)
	}
	dim, err := awsFirstPaidTier(term)
	if err != nil {
		return err
	}
	value, err := awsUSD(dim)
	if err != nil {
		return err
	}
	p.Kind, p.Product = KindEgress, "internet"
	p.Value, p.Unit = value, PerGiB
	return nil
}

// awsSingleDimension returns the term's only price dimension, which must be in
// unit. Several dimensions would be tiers or extra charges that a flat price
// cannot express.
func awsSingleDimension(term awsTerm, unit string) (awsPriceDimension, error) {
	for code, dim := range term.PriceDimensions {
		if dim.Unit != unit {
			return awsPriceDimension{}, fmt.Errorf("%w %q in %s, want %q",
				errAWSUnit, dim.Unit, code, unit)
		}
	}
	switch len(term.PriceDimensions) {
	case 0:
		return awsPriceDimension{}, fmt.Errorf("%w: term %s has no price dimension",
			errAWSMalformed, term.OfferTermCode)
	case 1:
		for _, dim := range term.PriceDimensions {
			return dim, nil
		}
	}
	if unit == awsUnitHours {
		return awsPriceDimension{}, fmt.Errorf("%w: %d", errAWSSeveralHourly,
			len(term.PriceDimensions))
	}
	return awsPriceDimension{}, fmt.Errorf("%w: %d dimensions in %s",
		errAWSMalformed, len(term.PriceDimensions), unit)
}

// awsFirstPaidTier returns the tier with the lowest beginRange among those
// with a price above zero. Every tier must be per GB.
func awsFirstPaidTier(term awsTerm) (awsPriceDimension, error) {
	var best awsPriceDimension
	bestBegin := -1.0
	for code, dim := range term.PriceDimensions {
		if dim.Unit != awsUnitGB {
			return awsPriceDimension{}, fmt.Errorf("%w %q in %s, want %q",
				errAWSUnit, dim.Unit, code, awsUnitGB)
		}
		begin, err := strconv.ParseFloat(dim.BeginRange, 64)
		if err != nil || begin < 0 {
			return awsPriceDimension{}, fmt.Errorf("%w: beginRange %q in %s",
				errAWSMalformed, dim.BeginRange, code)
		}
		value, err := awsUSD(dim)
		if err != nil {
			return awsPriceDimension{}, err
		}
		if value > 0 && (bestBegin < 0 || begin < bestBegin) {
			best, bestBegin = dim, begin
		}
	}
	if bestBegin < 0 {
		return awsPriceDimension{}, errAWSNoPaidTier
	}
	return best, nil
}

// awsUSD reads a dimension's price in US dollars.
func awsUSD(dim awsPriceDimension) (float64, error) {
	s, ok := dim.PricePerUnit["USD"]
	if !ok {
		return 0, fmt.Errorf("%w: no USD price", errAWSPrice)
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", errAWSPrice, err)
	}
	return v, nil
}

// awsParseMemory reads an instance's memory as the Price List writes it:
// "16 GiB", "0.5 GiB", "1,952 GiB".
func awsParseMemory(s string) (float64, error) {
	n, ok := strings.CutSuffix(s, " GiB")
	if ok {
		v, err := strconv.ParseFloat(strings.ReplaceAll(n, ",", ""), 64)
		if err == nil && v > 0 {
			return v, nil
		}
	}
	return 0, fmt.Errorf("%w: memory %q", errAWSSize, s)
}

// awsSKU returns a document's product SKU for an error message, if the
// document is JSON enough to have one.
func awsSKU(doc string) string {
	var d struct {
		Product struct {
			SKU string `json:"sku"`
		} `json:"product"`
	}
	if json.Unmarshal([]byte(doc), &d) != nil {
		return ""
	}
	return d.Product.SKU
}

// awsNewRetryer is the SDK's standard retryer (throttling errors, 5xx, 429
// and connection errors are retried, with exponential backoff and full
// jitter), taught to honour a Retry-After header as well.
func awsNewRetryer(maxAttempts int, maxBackoff time.Duration) aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = maxAttempts
		o.MaxBackoff = maxBackoff
		o.Backoff = awsRetryAfterBackoff{
			jitter: retry.NewExponentialJitterBackoff(maxBackoff),
			max:    maxBackoff,
			now:    time.Now,
		}
	})
}

// awsRetryAfterBackoff waits at least as long as a response's Retry-After
// asks, never longer than max. The SDK itself only reads x-amz-retry-after,
// which proxies and load balancers in front of an endpoint do not send.
type awsRetryAfterBackoff struct {
	jitter retry.BackoffDelayer
	max    time.Duration
	now    func() time.Time
}

// BackoffDelay returns the jittered delay, raised to Retry-After.
func (b awsRetryAfterBackoff) BackoffDelay(attempt int, err error) (time.Duration, error) {
	d, jitterErr := b.jitter.BackoffDelay(attempt, err)
	if jitterErr != nil {
		return 0, jitterErr
	}
	if after, ok := awsRetryAfter(err, b.now()); ok && after > d {
		d = min(after, b.max)
	}
	return d, nil
}

// awsRetryAfter reads the Retry-After header of the response behind err, in
// seconds or as an HTTP date.
func awsRetryAfter(err error, now time.Time) (time.Duration, bool) {
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.Response == nil || re.Response.Response == nil {
		return 0, false
	}
	return httpretry.ParseAfter(re.Response.Header.Get("Retry-After"), now)
}
