// Package config reads Switchboard's configuration from the environment, once, at start.
// Every variable is listed in the README; nothing else configures the service.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Environments.
// DefaultRecordingHosts are VAPI's storage and the buckets VAPI can upload recordings to.
const DefaultRecordingHosts = "storage.vapi.ai,storage.googleapis.com,*.storage.googleapis.com,*.amazonaws.com,*.r2.cloudflarestorage.com,*.supabase.co"

const (
	Production  = "production"
	Development = "development"
)

// Config is every setting the service reads.
type Config struct {
	// Env is "production" (the default) or "development".
	Env string
	// Port is the TCP port `serve` listens on.
	Port int
	// DatabaseURL is the PostgreSQL connection string (pgx form; pool_max_conns etc. allowed).
	DatabaseURL string
	// LogLevel is debug, info, warn or error.
	LogLevel string
	// DefaultRegion is the region numbers without a country code are read in (ISO 3166).
	DefaultRegion string
	// ShutdownTimeout bounds how long in-flight requests may take to finish on SIGTERM.
	ShutdownTimeout time.Duration
	// ReadHeaderTimeout bounds how long a client may take to send its request headers.
	ReadHeaderTimeout time.Duration

	// ClerkJWTKey is Clerk's PEM public key; when set, tokens are verified without network.
	ClerkJWTKey string
	// ClerkSecretKey lets the service fetch Clerk's JWKS when ClerkJWTKey is not set.
	ClerkSecretKey string
	// ClerkAPIURL is where the JWKS is fetched from.
	ClerkAPIURL string
	// ClerkAuthorizedParties, when not empty, are the only accepted `azp` claims.
	ClerkAuthorizedParties []string

	// BindHost is the address serve listens on: empty for every interface; `switchboard
	// dev` sets it to loopback, since a development instance trusts a key of its own.
	BindHost string
	// TrustedProxies are the networks (CIDR) of the proxies in front of the service:
	// only requests from them may say, in X-Forwarded-For or X-Real-IP, who the client is.
	TrustedProxies []*net.IPNet
	// RecordingHosts are the storage hosts clients may be sent to for a recording: a host,
	// or "*.domain" for its subdomains.
	RecordingHosts []string
	// AllowedOrigins are the web origins whose pages may call the API from a browser
	// (CORS); by default the Clerk authorized parties, where the SPA runs.
	AllowedOrigins []string
	// StreamsPerTenant bounds the live streams one tenant holds open on one replica.
	StreamsPerTenant int
	// CallerConns is the size of the database pool kept for what a caller on the line
	// waits for (Twilio's voice and dial webhooks), apart from the main pool.
	CallerConns int
	// MetricsToken is what the monitoring sends as a bearer token to read /metrics;
	// without one, /metrics is not served.
	MetricsToken string
	// TwilioAuthToken verifies X-Twilio-Signature. Without it every Twilio request is refused.
	TwilioAuthToken string
	// TwilioAccountSID and TwilioVerifyServiceSID let clinics prove their numbers with a
	// one-time code (Twilio Verify). Without them only the operator can verify numbers.
	TwilioAccountSID       string
	TwilioVerifyServiceSID string
	// TwilioVerifyURL is Twilio Verify's API.
	TwilioVerifyURL string
	// InboxPayloadRetention is how long an applied or ignored webhook event keeps its
	// payload, and InboxHeldRetention how long a failed or unattributed one does.
	InboxPayloadRetention, InboxHeldRetention time.Duration
	// PurgeInterval is how often the purge job applies clinics' retention windows and
	// deletes closed accounts' data past their grace period.
	PurgeInterval time.Duration
	// ClosedAccountGrace is how long a closed account's data is kept before it is deleted.
	ClosedAccountGrace time.Duration
	// ClerkWebhookSecret verifies Clerk's (Svix-signed) webhooks; empty refuses them all.
	ClerkWebhookSecret string
	// OutboundAllowPrivate lets outbound webhooks reach loopback and private addresses:
	// for development and tests only, never in production.
	OutboundAllowPrivate bool
	// TwilioAPIURL is Twilio's REST API, where voicemail recordings are fetched (with
	// TwilioAccountSID and TwilioAuthToken).
	TwilioAPIURL string
	// PublicBaseURL is the scheme and host Twilio calls (https://switchboard.example.com);
	// signatures are checked against it, never against the request's own Host.
	PublicBaseURL string
	// VapiAPIKey authenticates Switchboard's calls to VAPI's API.
	VapiAPIKey string
	// VapiBaseURL is VAPI's API.
	VapiBaseURL string
	// VapiWebhookSecret is the secret VAPI sends with its server messages.
	VapiWebhookSecret string
	// VapiTimeout bounds each call to VAPI, well inside Twilio's 15 s webhook timeout.
	VapiTimeout time.Duration
	// SpoolDir keeps VAPI messages on local disk while the database is unreachable.
	SpoolDir string
	// ReprocessInterval is how often `serve` drains the spool and reapplies failed events.
	ReprocessInterval time.Duration
	// ReconcileAfter is how long after its start a call still open is checked with VAPI.
	ReconcileAfter time.Duration
	// SearchIndexRate is how many transcripts `serve` indexes for search a second.
	SearchIndexRate int
}

// Load reads the configuration through getenv (os.Getenv in production, a map in tests).
func Load(getenv func(string) string) (Config, error) {
	c := Config{
		Env:            strings.ToLower(orDefault(getenv("APP_ENV"), Production)),
		DatabaseURL:    getenv("DATABASE_URL"),
		LogLevel:       strings.ToLower(orDefault(getenv("LOG_LEVEL"), "info")),
		DefaultRegion:  strings.ToUpper(orDefault(getenv("DEFAULT_REGION"), "US")),
		ClerkJWTKey:    strings.TrimSpace(getenv("CLERK_JWT_KEY")),
		ClerkSecretKey: strings.TrimSpace(getenv("CLERK_SECRET_KEY")),
		ClerkAPIURL:    orDefault(getenv("CLERK_API_URL"), "https://api.clerk.com/v1"),

		TwilioAuthToken:        strings.TrimSpace(getenv("TWILIO_AUTH_TOKEN")),
		MetricsToken:           strings.TrimSpace(getenv("METRICS_TOKEN")),
		TwilioAccountSID:       strings.TrimSpace(getenv("TWILIO_ACCOUNT_SID")),
		TwilioVerifyServiceSID: strings.TrimSpace(getenv("TWILIO_VERIFY_SERVICE_SID")),
		TwilioVerifyURL:        orDefault(getenv("TWILIO_VERIFY_URL"), "https://verify.twilio.com"),
		TwilioAPIURL:           orDefault(getenv("TWILIO_API_URL"), "https://api.twilio.com"),
		PublicBaseURL:          strings.TrimRight(strings.TrimSpace(getenv("PUBLIC_BASE_URL")), "/"),
		VapiAPIKey:             strings.TrimSpace(getenv("VAPI_API_KEY")),
		VapiBaseURL:            orDefault(getenv("VAPI_BASE_URL"), "https://api.vapi.ai"),
		VapiWebhookSecret:      strings.TrimSpace(getenv("VAPI_WEBHOOK_SECRET")),
		SpoolDir:               orDefault(getenv("SPOOL_DIR"), "spool"),
	}
	r := &reader{getenv: getenv}
	if c.Env != Production && c.Env != Development {
		r.errs = append(r.errs, fmt.Errorf("APP_ENV must be %q or %q, not %q", Production, Development, c.Env))
	}
	c.Port = r.integer("PORT", "8080", func(n int) bool { return n >= 0 && n <= 65535 }, "a TCP port number")
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		r.errs = append(r.errs, fmt.Errorf("LOG_LEVEL must be debug, info, warn or error, not %q", c.LogLevel))
	}
	positive := func(d time.Duration) bool { return d > 0 }
	c.ShutdownTimeout = r.duration("SHUTDOWN_TIMEOUT", "20s", positive, "a positive duration such as 20s")
	c.ReadHeaderTimeout = r.duration("READ_HEADER_TIMEOUT", "5s", positive, "a positive duration such as 5s")
	c.VapiTimeout = r.duration("VAPI_TIMEOUT", "8s", func(d time.Duration) bool { return d > 0 && d <= 14*time.Second },
		"a duration between 0 and 14s (Twilio waits 15 s)")
	c.ReprocessInterval = r.duration("REPROCESS_INTERVAL", "1m", positive, "a positive duration such as 1m")
	c.SearchIndexRate = r.integer("SEARCH_INDEX_RATE", "100", func(n int) bool { return n >= 1 },
		"a whole number of transcripts a second, 1 or more")
	c.StreamsPerTenant = r.integer("STREAMS_PER_TENANT", "50", func(n int) bool { return n >= 1 },
		"a whole number of live streams, 1 or more")
	c.CallerConns = r.integer("DATABASE_CALLER_CONNS", "4", func(n int) bool { return n >= 1 && n <= 100 },
		"a whole number of connections between 1 and 100")
	c.ReconcileAfter = r.duration("RECONCILE_AFTER", "30m", func(d time.Duration) bool { return d >= time.Minute },
		"a duration of a minute or more such as 30m")
	if c.PublicBaseURL != "" {
		if u, err := url.Parse(c.PublicBaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			r.errs = append(r.errs, fmt.Errorf("PUBLIC_BASE_URL must be the scheme and host Twilio calls, such as https://switchboard.example.com, not %q", c.PublicBaseURL))
		}
	}
	c.readLists(r)
	c.readOutbound(r)
	c.readRetention(r)
	return c, errors.Join(r.errs...)
}

// readRetention reads how long the inbox keeps payloads, how often the purge job runs, and
// how closed accounts are handled.
func (c *Config) readRetention(r *reader) {
	atLeastAnHour := func(d time.Duration) bool { return d >= time.Hour }
	c.InboxPayloadRetention = r.duration("INBOX_PAYLOAD_RETENTION", "72h", atLeastAnHour, "a duration of an hour or more such as 72h")
	c.InboxHeldRetention = r.duration("INBOX_HELD_RETENTION", "720h", atLeastAnHour, "a duration of an hour or more such as 720h")
	if c.InboxHeldRetention < c.InboxPayloadRetention {
		r.errs = append(r.errs, errors.New("INBOX_HELD_RETENTION must be at least INBOX_PAYLOAD_RETENTION: failed events are kept longer than applied ones"))
	}
	c.PurgeInterval = r.duration("RETENTION_PURGE_INTERVAL", "1h", atLeastAMinute, "a duration of a minute or more such as 1h")
	c.ClosedAccountGrace = r.duration("CLOSED_ACCOUNT_GRACE", "720h", func(d time.Duration) bool { return d >= 0 }, "a duration such as 720h (0 deletes at the next purge)")
	c.ClerkWebhookSecret = strings.TrimSpace(r.getenv("CLERK_WEBHOOK_SIGNING_SECRET"))
}

func atLeastAMinute(d time.Duration) bool { return d >= time.Minute }

// readOutbound reads the outbound webhooks' settings.
func (c *Config) readOutbound(r *reader) {
	switch v := strings.ToLower(strings.TrimSpace(r.getenv("OUTBOUND_WEBHOOKS_ALLOW_PRIVATE"))); {
	case v == "" || v == "false":
	case v == "true" && c.Env == Development:
		c.OutboundAllowPrivate = true
	case v == "true":
		r.errs = append(r.errs, errors.New("OUTBOUND_WEBHOOKS_ALLOW_PRIVATE=true is for development (APP_ENV=development) only"))
	default:
		r.errs = append(r.errs, fmt.Errorf("OUTBOUND_WEBHOOKS_ALLOW_PRIVATE must be true or false, not %q", v))
	}
}

// readLists reads the variables that hold lists.
func (c *Config) readLists(r *reader) {
	c.RecordingHosts = list(strings.ToLower(orDefault(r.getenv("RECORDING_HOSTS"), DefaultRecordingHosts)))
	for _, p := range list(r.getenv("TRUSTED_PROXIES")) {
		if _, network, err := net.ParseCIDR(p); err == nil {
			c.TrustedProxies = append(c.TrustedProxies, network)
		} else {
			r.errs = append(r.errs, fmt.Errorf("TRUSTED_PROXIES must be networks in CIDR form such as 10.0.0.0/8, not %q", p))
		}
	}
	c.ClerkAuthorizedParties = list(r.getenv("CLERK_AUTHORIZED_PARTIES"))
	c.AllowedOrigins = c.ClerkAuthorizedParties
	if origins := list(r.getenv("CORS_ALLOWED_ORIGINS")); len(origins) > 0 {
		c.AllowedOrigins = nil
		for _, o := range origins {
			c.AllowedOrigins = append(c.AllowedOrigins, strings.TrimRight(o, "/"))
		}
	}
}

// list reads a comma-separated variable, without blanks.
func list(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// reader reads typed variables and collects what is wrong with them, so that one start
// reports every bad variable at once.
type reader struct {
	getenv func(string) string
	errs   []error
}

// duration reads name (def when unset); want says what valid accepts.
func (r *reader) duration(name, def string, valid func(time.Duration) bool, want string) time.Duration {
	d, err := time.ParseDuration(orDefault(r.getenv(name), def))
	if err != nil || !valid(d) {
		r.errs = append(r.errs, fmt.Errorf("%s must be %s, not %q", name, want, r.getenv(name)))
	}
	return d
}

// integer reads name (def when unset); want says what valid accepts.
func (r *reader) integer(name, def string, valid func(int) bool, want string) int {
	n, err := strconv.Atoi(orDefault(r.getenv(name), def))
	if err != nil || !valid(n) {
		r.errs = append(r.errs, fmt.Errorf("%s must be %s, not %q", name, want, r.getenv(name)))
	}
	return n
}

// ValidateServe checks what `serve` needs beyond what Load checks.
func (c Config) ValidateServe() error {
	var errs []error
	if c.DatabaseURL == "" {
		errs = append(errs, errors.New("DATABASE_URL is required"))
	}
	if c.ClerkJWTKey == "" && c.ClerkSecretKey == "" {
		errs = append(errs, errors.New("CLERK_JWT_KEY or CLERK_SECRET_KEY is required to verify session tokens"))
	}
	// Outside development the webhooks must be able to authenticate what they receive;
	// in development a missing secret makes its webhook refuse every request instead.
	if c.Env != Development {
		for _, v := range []struct{ name, value string }{
			{"TWILIO_AUTH_TOKEN", c.TwilioAuthToken},
			{"PUBLIC_BASE_URL", c.PublicBaseURL},
			{"VAPI_WEBHOOK_SECRET", c.VapiWebhookSecret},
			{"VAPI_API_KEY", c.VapiAPIKey},
			{"CLERK_WEBHOOK_SIGNING_SECRET", c.ClerkWebhookSecret},
		} {
			if v.value == "" {
				errs = append(errs, fmt.Errorf("%s is required outside development (APP_ENV=development)", v.name))
			}
		}
	}
	return errors.Join(errs...)
}

func orDefault(v, def string) string {
	if strings.TrimSpace(v) == "" {
		return def
	}
	return strings.TrimSpace(v)
}
