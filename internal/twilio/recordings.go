package twilio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultAPIURL is Twilio's REST API.
const DefaultAPIURL = "https://api.twilio.com"

// maxRecording bounds a voicemail fetched: two minutes of MP3 are about 2 MB.
const maxRecording = 32 << 20

// Recordings fetches voicemail recordings, whose media Twilio serves only with the
// account's credentials: the server fetches them and streams them on, and the credentials
// never reach a client.
type Recordings struct {
	base       string
	accountSID string
	authToken  string
	http       *http.Client
}

// NewRecordings returns a fetcher for the account, or nil when the account is not
// configured. baseURL is DefaultAPIURL unless a test serves Twilio's wire format.
func NewRecordings(baseURL, accountSID, authToken string) *Recordings {
	if accountSID == "" || authToken == "" {
		return nil
	}
	if baseURL == "" {
		baseURL = DefaultAPIURL
	}
	return &Recordings{
		base: strings.TrimRight(baseURL, "/"), accountSID: accountSID, authToken: authToken,
		// Go drops the credentials on a redirect to another host (Twilio's media storage).
		http: &http.Client{Timeout: 60 * time.Second},
	}
}

// ErrNoRecording is returned when Twilio has no such recording.
var ErrNoRecording = errors.New("twilio: no such recording")

// Media is a recording's audio, to be closed by the reader.
type Media struct {
	Body        io.ReadCloser
	ContentType string
	Length      int64 // -1 when unknown
}

// Open fetches recording sid as MP3.
func (r *Recordings) Open(ctx context.Context, sid string) (Media, error) {
	u := fmt.Sprintf("%s/2010-04-01/Accounts/%s/Recordings/%s.mp3", r.base, url.PathEscape(r.accountSID), url.PathEscape(sid))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Media{}, err
	}
	req.SetBasicAuth(r.accountSID, r.authToken)
	resp, err := r.http.Do(req)
	if err != nil {
		return Media{}, fmt.Errorf("twilio: fetching a recording: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		resp.Body.Close()
		return Media{}, ErrNoRecording
	case resp.StatusCode != http.StatusOK:
		resp.Body.Close()
		return Media{}, fmt.Errorf("twilio: fetching a recording answered %d", resp.StatusCode)
	}
	length := resp.ContentLength
	if length > maxRecording {
		resp.Body.Close()
		return Media{}, fmt.Errorf("twilio: a recording of %d bytes", length)
	}
	body := struct {
		io.Reader
		io.Closer
	}{io.LimitReader(resp.Body, maxRecording), resp.Body}
	return Media{Body: body, ContentType: "audio/mpeg", Length: length}, nil
}
