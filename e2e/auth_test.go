//go:build e2e

package e2e

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

// TestBasicAuth: with --web.config.file requiring basic auth, every endpoint
// refuses an unauthenticated request and serves an authenticated one.
func TestBasicAuth(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	require.NoError(t, err)
	webConfig := writeFile(t, t.TempDir(), "web.yml",
		"basic_auth_users:\n  prometheus: "+string(hash)+"\n")

	addr := freeAddr(t)
	p := start(t, "stratus", stratusBin, "serve", "--web.listen-address="+addr,
		"--web.config.file="+webConfig, "--storage.path="+t.TempDir())

	authorized := http.Header{}
	req, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	req.SetBasicAuth("prometheus", "s3cret")
	authorized.Set("Authorization", req.Header.Get("Authorization"))

	wrong := http.Header{}
	req.SetBasicAuth("prometheus", "guess")
	wrong.Set("Authorization", req.Header.Get("Authorization"))

	require.Eventually(t, func() bool {
		status, _ := httpGet("http://"+addr+"/-/healthy", authorized)
		return status == http.StatusOK || p.exited()
	}, 60*1e9, 100*1e6)
	require.False(t, p.exited())

	for _, path := range []string{"/metrics", "/", "/-/healthy", "/-/ready", "/api/v1/telemetry"} {
		status, _ := httpGet("http://"+addr+path, nil)
		require.Equal(t, http.StatusUnauthorized, status, "unauthenticated %s", path)
		status, _ = httpGet("http://"+addr+path, wrong)
		require.Equal(t, http.StatusUnauthorized, status, "wrong password on %s", path)
	}
	status, body := httpGet("http://"+addr+"/metrics", authorized)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "stratus_build_info")
}
