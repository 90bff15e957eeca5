// Package pricing holds the price books Stratus prices resources with: list prices
// from the AWS Price List API, the Google Cloud Billing Catalog and the Azure Retail
// Prices API, a price file for on-premises and negotiated prices, and a snapshot of
// common list prices compiled into the binary so that Stratus prices offline.
//
// Every price says its unit, its currency and where it came from. A monthly price is
// never taken for an hourly one: units are part of the type, and conversions go
// through HoursPerMonth (730, as the whole of Stratus counts a month).
package pricing

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// HoursPerMonth is the length of a month in every per-month figure.
const HoursPerMonth = 730

// Kind says what a price is for.
type Kind string

// Kinds of price.
const (
	// KindCompute is the hourly price of a machine: an instance type, a machine
	// type, a VM size.
	KindCompute Kind = "compute"
	// KindVCPU and KindMemory are the hourly prices of one vCPU and one GiB of
	// memory, for custom machines, Fargate-like offerings and for splitting a
	// node's price between CPU and memory.
	KindVCPU   Kind = "vcpu"
	KindMemory Kind = "memory"
	// KindStorage is block or object storage, per GiB-month.
	KindStorage Kind = "storage"
	// KindEgress is network traffic leaving a region or the cloud, per GiB.
	KindEgress Kind = "egress"
	// KindRequest is the price of one request or invocation of a serverless
	// product ("lambda", "cloud-run"). Price files may quote it per million.
	KindRequest Kind = "request"
)

// Unit is the unit a price is quoted in.
type Unit string

// Units of price.
const (
	PerHour     Unit = "hour"      // one machine for an hour
	PerVCPUHour Unit = "vcpu-hour" // one vCPU for an hour
	PerGiBHour  Unit = "gib-hour"  // one GiB of memory for an hour
	PerGiBMonth Unit = "gib-month" // one GiB stored for a month (730 hours)
	PerGiB      Unit = "gib"       // one GiB transferred
	PerRequest  Unit = "request"   // one request or invocation
)

// UnitOf is the unit prices of each kind are quoted in.
func UnitOf(k Kind) Unit {
	switch k {
	case KindCompute:
		return PerHour
	case KindVCPU:
		return PerVCPUHour
	case KindMemory:
		return PerGiBHour
	case KindStorage:
		return PerGiBMonth
	case KindEgress:
		return PerGiB
	case KindRequest:
		return PerRequest
	}
	return ""
}

// Purchase is how capacity is bought.
type Purchase string

// Purchase options. Stratus prices at on-demand unless configured otherwise; the
// others come from price files and overrides, and from the clouds' catalogs where
// they list them.
const (
	OnDemand  Purchase = "on_demand"
	Spot      Purchase = "spot"
	Reserved  Purchase = "reserved"  // AWS reserved instances and savings plans
	Committed Purchase = "committed" // GCP committed use, Azure reservations
)

// Key identifies what a price is for. Empty fields match nothing in particular:
// a lookup names every field it knows.
type Key struct {
	// Cloud is aws, gcp, azure, or a name of the price file's own (onprem, a
	// colocation site).
	Cloud  string
	Region string
	Kind   Kind
	// Product is the instance or machine type for KindCompute ("m5.xlarge",
	// "n2-standard-4", "Standard_D4s_v5"), the machine family for KindVCPU and
	// KindMemory ("n2", "fargate"), the storage product for KindStorage
	// ("ebs-gp3", "pd-balanced", "s3-standard"), the destination for KindEgress
	// ("internet", "inter-region").
	Product string
	// OS is linux or windows for compute; empty otherwise.
	OS       string
	Purchase Purchase
}

// String writes the key as the log and error messages show it.
func (k Key) String() string {
	s := fmt.Sprintf("%s/%s %s %s", k.Cloud, k.Region, k.Kind, k.Product)
	if k.OS != "" {
		s += " " + k.OS
	}
	if k.Purchase != "" && k.Purchase != OnDemand {
		s += " " + string(k.Purchase)
	}
	return s
}

// Price is one price of a price book.
type Price struct {
	Key
	// Value is the price in Currency per Unit.
	Value    float64
	Unit     Unit
	Currency string
	// Source names where the price came from: aws-price-list, gcp-billing-catalog,
	// azure-retail-prices, embedded-snapshot, a price file's path, or override.
	Source string
	// AsOf is when the source published or Stratus fetched the price; zero when
	// unknown.
	AsOf time.Time
	// VCPU and MemoryGiB size a compute product, where the source says; they let
	// a node's price be split between CPU and memory and a cheaper type be
	// recommended.
	VCPU      float64
	MemoryGiB float64
}

// Hourly returns the price per hour of one unit of capacity: the price itself for
// hourly units, a monthly price divided by HoursPerMonth. Per-GiB transfer and
// per-request prices have no hourly form: ok is false.
func (p Price) Hourly() (v float64, ok bool) {
	switch p.Unit {
	case PerHour, PerVCPUHour, PerGiBHour:
		return p.Value, true
	case PerGiBMonth:
		return p.Value / HoursPerMonth, true
	}
	return 0, false
}

// Validate checks that a price can be used: a known kind with its unit, a finite,
// non-negative value, and a currency.
func (p Price) Validate() error {
	switch {
	case UnitOf(p.Kind) == "":
		return fmt.Errorf("%s: unknown kind %q", p.Key, p.Kind)
	case p.Unit != UnitOf(p.Kind):
		return fmt.Errorf("%s: unit %q, want %q for %s", p.Key, p.Unit, UnitOf(p.Kind), p.Kind)
	case p.Value != p.Value || p.Value < 0 || p.Value > 1e12:
		return fmt.Errorf("%s: price %v is not a finite non-negative number", p.Key, p.Value)
	case p.Currency == "":
		return fmt.Errorf("%s: no currency", p.Key)
	case p.Cloud == "" || p.Product == "":
		return fmt.Errorf("%s: cloud and product are required", p.Key)
	}
	return nil
}

// ErrNoPrice says that a price book has no price for a key.
var ErrNoPrice = errors.New("no price")

// Fetcher reads a whole catalog of list prices from one source. Fetch must honour
// ctx, return every price it could read with a wrapped error for what it could not
// (a partial catalog is still useful, and the error is reported), and never return
// a price that fails Validate.
type Fetcher interface {
	// Name is the source name prices carry and stratus_source_up reports.
	Name() string
	Fetch(ctx context.Context) ([]Price, error)
}
