package identity

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseService(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Service
		err  string
	}{
		{in: "cart", want: Service{Name: "cart"}},
		{in: "shop/cart", want: Service{Namespace: "shop", Name: "cart"}},
		{in: "eu/shop/cart", want: Service{Cluster: "eu", Namespace: "shop", Name: "cart"}},
		{in: "//cart", want: Service{Name: "cart"}},
		{in: "a/b/c/d", err: "want name"},
		{in: "shop/", err: "name is empty"},
		{in: "", err: "name is empty"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseService(tc.in)
			if tc.err != "" {
				require.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestServiceString(t *testing.T) {
	require.Equal(t, "//cart", Service{Name: "cart"}.String())
	require.Equal(t, "eu/shop/cart", Service{"eu", "shop", "cart"}.String())
	require.True(t, Service{Name: "cart"}.Bare())
	require.False(t, Service{Namespace: "shop", Name: "cart"}.Bare())
}

func TestFromHost(t *testing.T) {
	for _, tc := range []struct {
		host     string
		want     Service
		external bool
	}{
		{"cart", Service{Name: "cart"}, false},
		{"cart:8080", Service{Name: "cart"}, false},
		{"cart.shop", Service{Namespace: "shop", Name: "cart"}, false},
		{"cart.shop.svc", Service{Namespace: "shop", Name: "cart"}, false},
		{"Cart.Shop.svc.cluster.local:8080", Service{Namespace: "shop", Name: "cart"}, false},
		{"cart.shop.svc.cluster.local.", Service{Namespace: "shop", Name: "cart"}, false},
		{"api.stripe.com", Service{Name: "api.stripe.com"}, true},
		{"stripe.com:443", Service{Name: "stripe.com"}, true},
		{"10.0.0.7:5432", Service{Name: "10.0.0.7"}, true},
		{"[2001:db8::1]:443", Service{Name: "2001:db8::1"}, true},
		{"db.eu-west-1.rds.amazonaws.com", Service{Name: "db.eu-west-1.rds.amazonaws.com"}, true},
		{"cart.dev:8080", Service{Namespace: "dev", Name: "cart"}, false},
		{"cart.app", Service{Namespace: "app", Name: "cart"}, false},
		{"cart.shop.svc.k8s.example", Service{Namespace: "shop", Name: "cart"}, false},
		{"cart.shop.svc.cluster.local:8080", Service{Namespace: "shop", Name: "cart"}, false},
		{"cart.shop.internal.example", Service{Name: "cart.shop.internal.example"}, true},
	} {
		t.Run(tc.host, func(t *testing.T) {
			got, external := FromHost(tc.host)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.external, external)
		})
	}
}

func TestConfigValidate(t *testing.T) {
	require.NoError(t, Config{}.Validate())
	require.NoError(t, Config{Aliases: map[string]string{"checkout-svc": "shop/checkout"}}.Validate())
	require.ErrorContains(t,
		Config{Aliases: map[string]string{"b": "ok", "a": "x/y/z/w"}}.Validate(), "aliases.a:")
	require.ErrorContains(t, Config{Aliases: map[string]string{"": "x"}}.Validate(), "empty name")
}

func TestResolve(t *testing.T) {
	r := NewResolver(Config{Aliases: map[string]string{
		"checkout-svc": "checkout",
		"payments-db":  "data/payments",
		"broken":       "a/b/c/d", // ignored: Validate would have refused it
	}})
	for _, s := range []Service{
		{Cluster: "eu", Namespace: "shop", Name: "cart"},
		{Namespace: "shop", Name: "cart"}, // the same service seen without a cluster
		{Cluster: "eu", Namespace: "shop", Name: "checkout"},
		{Cluster: "eu", Namespace: "a", Name: "auth"},
		{Cluster: "us", Namespace: "a", Name: "auth"},
		{Name: "bare-only"},
		{Cluster: "eu", Namespace: "data", Name: "payments"},
	} {
		r.Learn(s)
	}

	for _, tc := range []struct {
		name string
		in   Service
		want Service
	}{
		{"bare completes", Service{Name: "cart"}, Service{"eu", "shop", "cart"}},
		{"namespace without cluster completes",
			Service{Namespace: "shop", Name: "cart"}, Service{"eu", "shop", "cart"}},
		{"full stays", Service{"us", "shop", "cart"}, Service{"us", "shop", "cart"}},
		{"ambiguous stays bare", Service{Name: "auth"}, Service{Name: "auth"}},
		{"cluster disambiguates", Service{Cluster: "us", Name: "auth"}, Service{"us", "a", "auth"}},
		{"unknown name stays", Service{Name: "nobody"}, Service{Name: "nobody"}},
		{"bare learnt is not a candidate", Service{Name: "bare-only"}, Service{Name: "bare-only"}},
		{"alias then completion", Service{Name: "checkout-svc"}, Service{"eu", "shop", "checkout"}},
		{"alias with namespace", Service{Name: "payments-db"}, Service{"eu", "data", "payments"}},
		{"alias keeps reported cluster", Service{Cluster: "eu", Name: "payments-db"},
			Service{"eu", "data", "payments"}},
		{"wrong namespace stays", Service{Namespace: "other", Name: "cart"},
			Service{Namespace: "other", Name: "cart"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, r.Resolve(tc.in))
		})
	}
}

func TestKnows(t *testing.T) {
	r := NewResolver(Config{Aliases: map[string]string{"cart-svc": "shop/cart"}})
	r.Learn(Service{Cluster: "eu", Namespace: "shop", Name: "cart"})
	r.Learn(Service{Namespace: "shop", Name: "cart"})
	require.True(t, r.Knows(Service{"eu", "shop", "cart"}))
	require.True(t, r.Knows(Service{Namespace: "shop", Name: "cart"}))
	require.True(t, r.Knows(Service{Cluster: "eu", Name: "cart-svc"}), "through the alias")
	require.False(t, r.Knows(Service{"us", "shop", "cart"}))
	require.False(t, r.Knows(Service{Name: "cart"}), "bare names are never learnt")
}

func TestKeepMostSpecific(t *testing.T) {
	a := Service{Name: "x"}
	b := Service{Namespace: "n", Name: "x"}
	c := Service{Cluster: "c", Namespace: "n", Name: "x"}
	d := Service{Cluster: "d", Namespace: "n", Name: "x"}
	require.Equal(t, []Service{c}, keepMostSpecific(keepMostSpecific([]Service{a}, b), c))
	require.Equal(t, []Service{c}, keepMostSpecific([]Service{c}, b))
	require.ElementsMatch(t, []Service{c, d}, keepMostSpecific([]Service{c}, d))
}
