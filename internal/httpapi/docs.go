package httpapi

import (
	"bytes"
	"compress/gzip"
	"context"
	_ "embed"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/switchboard-health/switchboard/api"
)

var (
	//go:embed docs/index.html
	docsPage []byte
	//go:embed docs/redoc.standalone.js.gz
	redocGzip []byte
)

// GetDocs serves the API reference page.
func (s *Server) GetDocs(context.Context, api.GetDocsRequestObject) (api.GetDocsResponseObject, error) {
	return docsHTML{}, nil
}

// docsPolicy lets the page load only from this server. Redoc shows its makers' logo from
// their CDN; the policy keeps the browser from fetching it (the logo then hides itself).
const docsPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; " +
	"script-src 'self' 'unsafe-inline'; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"

type docsHTML struct{}

func (docsHTML) VisitGetDocsResponse(w http.ResponseWriter) error {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", docsPolicy)
	h.Set("Content-Length", strconv.Itoa(len(docsPage)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(docsPage)
	return err
}

// GetDocsScript serves Redoc's bundle, compressed to clients that accept gzip.
func (s *Server) GetDocsScript(_ context.Context, req api.GetDocsScriptRequestObject) (api.GetDocsScriptResponseObject, error) {
	gz := req.Params.AcceptEncoding != nil && strings.Contains(*req.Params.AcceptEncoding, "gzip")
	return docsScript{gzip: gz}, nil
}

type docsScript struct{ gzip bool }

func (d docsScript) VisitGetDocsScriptResponse(w http.ResponseWriter) error {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=86400")
	h.Set("Vary", "Accept-Encoding")
	if d.gzip {
		h.Set("Content-Encoding", "gzip")
		h.Set("Content-Length", strconv.Itoa(len(redocGzip)))
		w.WriteHeader(http.StatusOK)
		_, err := w.Write(redocGzip)
		return err
	}
	zr, err := gzip.NewReader(bytes.NewReader(redocGzip))
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	_, err = io.Copy(w, zr)
	return err
}
