package lsp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"

	"github.com/waymark-dev/waymark/lang"
)

// The editor sees production, when it is told where production is: a
// running `waymark run` (Options.Server and AdminToken, from
// $WAYMARK_SERVER and $WAYMARK_ADMIN_TOKEN, or the initialization options
// {"server": URL, "adminToken": TOKEN}). Then each stage gets a code lens
// with the customers in it now, and a journey that no longer declares an
// occupied stage, without a moved or removed block for it, gets a warning
// naming how many customers would exit. It reads the admin API only (GET
// /v1/journeys), never the runtime's packages. Without a server, or when
// it does not answer, nothing changes: no lens, no warning, one line in
// the log when it stops answering and one when it answers again.

// productionTTL is how long a fetch of the counts is used before the next.
const productionTTL = 10 * time.Second

// productionTimeout bounds a fetch: the editor never waits longer.
const productionTimeout = 2 * time.Second

// production fetches and caches the customers per journey and stage.
type production struct {
	url, token string
	client     *http.Client
	log        func(msg string, args ...any)

	mu      sync.Mutex
	at      time.Time                 // when counts were last fetched (or tried)
	counts  map[string]map[string]int // journey -> stage -> active instances, every version
	down    bool                      // the last fetch failed (logged once)
	loading chan struct{}             // closed when the fetch under way ends
}

func newProduction(url, token string, log func(string, ...any)) *production {
	if url == "" {
		return nil
	}
	return &production{url: strings.TrimSuffix(url, "/"), token: token, client: &http.Client{Timeout: productionTimeout}, log: log}
}

// stageCounts returns the latest counts, or nil when production is unknown
// or unreachable. A stale cache is refreshed in the background; the first
// call waits for the first fetch (at most productionTimeout).
func (p *production) stageCounts() map[string]map[string]int {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	if time.Since(p.at) > productionTTL && p.loading == nil {
		p.loading = make(chan struct{})
		go p.fetch(p.loading)
	}
	first, wait := p.at.IsZero(), p.loading
	p.mu.Unlock()
	if first && wait != nil {
		<-wait
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts
}

func (p *production) fetch(done chan struct{}) {
	counts, err := p.get()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.at, p.loading = time.Now(), nil
	close(done)
	switch {
	case err != nil && !p.down:
		p.down, p.counts = true, nil
		p.log("the waymark server does not answer; code lenses and occupied-stage warnings are off until it does", "server", p.url, "err", err)
	case err != nil:
		p.counts = nil
	default:
		if p.down {
			p.log("the waymark server answers again", "server", p.url)
		}
		p.down, p.counts = false, counts
	}
}

// get reads GET /v1/journeys: per journey, the active instances per stage
// of the running version and of older ones.
func (p *production) get() (map[string]map[string]int, error) {
	req, err := http.NewRequest("GET", p.url+"/v1/journeys", nil)
	if err != nil {
		return nil, err
	}
	if p.token != "" {
		req.Header.Set("Authorization", "Bearer "+p.token)
	}
	res, err := p.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /v1/journeys: %s", res.Status)
	}
	var doc struct {
		Journeys []struct {
			Name   string `json:"name"`
			Stages []struct {
				Name   string `json:"name"`
				Active int    `json:"active"`
			} `json:"stages"`
			Older []struct {
				Stage  string `json:"stage"`
				Active int    `json:"active"`
			} `json:"older_versions"`
		} `json:"journeys"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 16<<20)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("GET /v1/journeys: %w", err)
	}
	out := make(map[string]map[string]int, len(doc.Journeys))
	for _, j := range doc.Journeys {
		m := out[j.Name]
		if m == nil {
			m = map[string]int{}
			out[j.Name] = m
		}
		for _, s := range j.Stages {
			m[s.Name] += s.Active
		}
		for _, s := range j.Older {
			m[s.Stage] += s.Active
		}
	}
	return out, nil
}

// CodeLens shows, above each stage of a journey, how many customers are in
// it now in production. Nothing without a configured, answering server.
func (s *server) CodeLens(ctx context.Context, p *protocol.CodeLensParams) ([]protocol.CodeLens, error) {
	_, doc := s.docAt(p.TextDocument.URI)
	if doc == nil || doc.kind() != lang.JourneyFile {
		return nil, nil
	}
	jsonrpc2.Async(ctx)
	counts := s.production().stageCounts()
	if counts == nil {
		return nil, nil
	}
	ws, _ := doc.parse()
	lines := doc.lineIndex()
	var out []protocol.CodeLens
	for _, j := range ws.Journeys {
		for _, st := range j.Stages {
			n := counts[j.Name.Value][st.Name.Value]
			out = append(out, protocol.CodeLens{
				Range:   lines.hclRange(st.DefRange),
				Command: protocol.Command{Title: customersNow(n)},
			})
		}
	}
	return out, nil
}

func customersNow(n int) string {
	if n == 1 {
		return "1 customer here now"
	}
	return fmt.Sprintf("%d customers here now", n)
}

// occupiedStageDiagnostics warns, for each journey of a file, of a stage
// that holds customers in production but that the journey no longer
// declares, with no moved or removed block naming it: when this version is
// loaded they exit (stage_removed).
func (s *server) occupiedStageDiagnostics(doc *document) hcl.Diagnostics {
	if doc == nil || doc.kind() != lang.JourneyFile {
		return nil
	}
	prod := s.production()
	counts := prod.stageCounts()
	if counts == nil {
		return nil
	}
	ws, _ := doc.parse()
	var diags hcl.Diagnostics
	for _, j := range ws.Journeys {
		live := counts[j.Name.Value]
		if len(live) == 0 {
			continue
		}
		handled := map[string]bool{}
		for _, st := range j.Stages {
			handled[st.Name.Value] = true
		}
		for _, m := range j.Moved {
			handled[stageName(m.From)] = true
		}
		for _, r := range j.Removed {
			handled[stageName(r.From)] = true
		}
		for _, stage := range sortedKeys(live) {
			n := live[stage]
			if n == 0 || handled[stage] {
				continue
			}
			r := j.Name.Range
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagWarning,
				Summary:  "Customers would exit",
				Detail: fmt.Sprintf("Stage %q holds %s in production (%s) and this journey no longer declares it: when this version is loaded they exit (stage_removed). Add a moved block if it was renamed, or a removed block with goto to say where they go.",
					stage, customers(n), prod.url),
				Subject: &r,
			})
		}
	}
	return diags
}

func customers(n int) string {
	if n == 1 {
		return "1 customer"
	}
	return fmt.Sprintf("%d customers", n)
}

// stageName reads `stage.NAME` from a moved or removed block's from.
func stageName(a *lang.Attr) string {
	if a == nil || a.Expr == nil {
		return ""
	}
	t, diags := hcl.AbsTraversalForExpr(a.Expr)
	if diags.HasErrors() || len(t) != 2 || t.RootName() != "stage" {
		return ""
	}
	if step, ok := t[1].(hcl.TraverseAttr); ok {
		return step.Name
	}
	return ""
}

// production returns the session's view of production, nil when none is
// configured.
func (s *server) production() *production {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.prod
}
