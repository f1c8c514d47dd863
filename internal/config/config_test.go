package config

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Env != Production || c.Port != 8080 || c.DefaultRegion != "US" || c.LogLevel != "info" ||
		c.ShutdownTimeout != 20*time.Second || c.ClerkAPIURL != "https://api.clerk.com/v1" || c.SearchIndexRate != 100 {
		t.Fatalf("defaults %+v", c)
	}
}

func TestLoadReadsAndValidates(t *testing.T) {
	t.Parallel()
	c, err := Load(env(map[string]string{
		"APP_ENV": "development", "PORT": "9000", "DEFAULT_REGION": "gb",
		"CLERK_AUTHORIZED_PARTIES": " https://a.example.com, ,https://b.example.com ", "SEARCH_INDEX_RATE": "25",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Env != Development || c.Port != 9000 || c.DefaultRegion != "GB" || c.SearchIndexRate != 25 ||
		strings.Join(c.ClerkAuthorizedParties, "|") != "https://a.example.com|https://b.example.com" {
		t.Fatalf("loaded %+v", c)
	}

	_, err = Load(env(map[string]string{"APP_ENV": "staging", "PORT": "http", "LOG_LEVEL": "loud", "SHUTDOWN_TIMEOUT": "soon"}))
	for _, name := range []string{"APP_ENV", "PORT", "LOG_LEVEL", "SHUTDOWN_TIMEOUT"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error %v does not name %s", err, name)
		}
	}

	_, err = Load(env(map[string]string{"PUBLIC_BASE_URL": "https://sb.example.com/api", "VAPI_TIMEOUT": "20s", "REPROCESS_INTERVAL": "0s", "SEARCH_INDEX_RATE": "0"}))
	for _, name := range []string{"PUBLIC_BASE_URL", "VAPI_TIMEOUT", "REPROCESS_INTERVAL", "SEARCH_INDEX_RATE"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error %v does not name %s", err, name)
		}
	}

	// Development may run without webhook secrets (the webhooks then refuse everything).
	dev := Config{Env: Development, DatabaseURL: "postgres://x", ClerkJWTKey: "k"}
	if err := dev.ValidateServe(); err != nil {
		t.Errorf("development without webhook secrets: %v", err)
	}
	dev.Env = Production
	if err := dev.ValidateServe(); err == nil || !strings.Contains(err.Error(), "TWILIO_AUTH_TOKEN") {
		t.Errorf("production without webhook secrets: %v", err)
	}

	if err := (Config{}).ValidateServe(); err == nil || !strings.Contains(err.Error(), "DATABASE_URL") || !strings.Contains(err.Error(), "CLERK_JWT_KEY") {
		t.Errorf("ValidateServe on an empty config: %v", err)
	}
}
