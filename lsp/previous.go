package lsp

import (
	"bytes"
	"context"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"

	"go.lsp.dev/protocol"

	"github.com/waymark-dev/waymark/lang"
)

// The names the previous version of a workspace had, for completing the
// `from` of moved and removed blocks, which name stages and journeys that
// are gone. The previous version is the workspace as committed at git HEAD:
// what a pull request changes is the working tree against it. Outside a
// git repository, or without git, there are none, and completion offers
// nothing there (the compiler still accepts any name).

// previousNames are the journeys and their stages at HEAD.
type previousNames struct {
	journeys []string
	stages   map[string][]string // by journey
}

var previous struct {
	mu    sync.Mutex
	byDir map[string]previousAt
}

type previousAt struct {
	head  string
	names *previousNames
}

// previousOf returns the names at git HEAD of the workspace in root, read
// once per HEAD commit; nil when there is no such version.
func previousOf(root string) *previousNames {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	head, err := git(ctx, root, "rev-parse", "HEAD")
	if err != nil {
		return nil
	}
	h := strings.TrimSpace(string(head))
	previous.mu.Lock()
	at, ok := previous.byDir[root]
	previous.mu.Unlock()
	if ok && at.head == h {
		return at.names
	}
	names := readPrevious(ctx, root)
	previous.mu.Lock()
	if previous.byDir == nil {
		previous.byDir = map[string]previousAt{}
	}
	previous.byDir[root] = previousAt{head: h, names: names}
	previous.mu.Unlock()
	return names
}

// readPrevious loads the journey files under root as committed at HEAD.
func readPrevious(ctx context.Context, root string) *previousNames {
	list, err := git(ctx, root, "ls-tree", "-r", "-z", "--name-only", "HEAD")
	if err != nil {
		return nil
	}
	var files []lang.SourceFile
	for _, p := range bytes.Split(list, []byte{0}) {
		path := string(p)
		if kind, ok := lang.KindOf(path); !ok || kind != lang.JourneyFile {
			continue
		}
		src, err := git(ctx, root, "show", "HEAD:./"+path)
		if err != nil {
			continue
		}
		files = append(files, lang.SourceFile{Path: path, Src: src})
	}
	ws, _ := lang.Parse(root, files)
	names := &previousNames{stages: map[string][]string{}}
	for _, j := range ws.Journeys {
		names.journeys = append(names.journeys, j.Name.Value)
		for _, s := range j.Stages {
			names.stages[j.Name.Value] = append(names.stages[j.Name.Value], s.Name.Value)
		}
	}
	return names
}

// renamedFrom lists the old names top-level moved blocks give journey.
func (s *snapshot) renamedFrom(journey string) []string {
	var out []string
	for _, p := range s.paths {
		ws, _ := s.files[p].doc.parse()
		for _, m := range ws.Moved {
			if m.From == nil || m.To == nil {
				continue
			}
			from, ok1 := lang.AsReference(m.From.Expr)
			to, ok2 := lang.AsReference(m.To.Expr)
			if ok1 && ok2 && to.Name == journey && !slices.Contains(out, from.Name) {
				out = append(out, from.Name)
			}
		}
	}
	return out
}

func git(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	return cmd.Output()
}

// goneNames offers, for the `from` of a moved or removed block, the names
// that are gone: the stages of the journey around the cursor (or the
// journeys) that the running server has customers in (when one is
// configured, production.go) or that the workspace had at git HEAD, and
// that the files no longer declare; as references (stage.NAME) in a value,
// as names after the dot.
func (k *completer) goneNames(as *lang.AttrSchema, sc scope, asRef bool) {
	var running map[string]map[string]int
	if k.running != nil {
		running = k.running()
	}
	prev := previousOf(k.snap.root)
	kind := "stage"
	var now []string
	live := map[string]int{} // customers in production, by name
	var committed []string
	switch as.Kind {
	case lang.KindGoneStage:
		if sc.journey == nil || len(sc.journey.labels) == 0 {
			return
		}
		name := sc.journey.labels[0]
		now = k.stages(sc)
		for _, j := range append([]string{name}, k.snap.renamedFrom(name)...) {
			for st, n := range running[j] {
				live[st] += n
			}
			if prev != nil {
				committed = append(committed, prev.stages[j]...)
			}
		}
	case lang.KindGoneJourney:
		kind = "journey"
		for _, j := range k.decls.journeys {
			now = append(now, j.Name.Value)
		}
		for j, stages := range running {
			for _, n := range stages {
				live[j] += n
			}
		}
		if prev != nil {
			committed = prev.journeys
		}
	default:
		return
	}
	prefix := ""
	if asRef {
		prefix = kind + "."
	}
	offered := map[string]bool{}
	offer := func(n, detail, doc string) {
		if offered[n] || slices.Contains(now, n) {
			return
		}
		offered[n] = true
		k.add(item{label: prefix + n, kind: protocol.CompletionItemKindEnumMember, detail: detail, doc: doc})
	}
	for _, n := range slices.Sorted(maps.Keys(live)) {
		if live[n] > 0 {
			offer(n, kind+" in production, no longer declared: "+customers(live[n]),
				"The running server has "+customers(live[n])+" in the "+kind+" "+code(n)+", which the files no longer declare: a `moved` or `removed` block says where they go.")
		}
	}
	for _, n := range committed {
		offer(n, kind+" at git HEAD, no longer declared",
			"The "+kind+" "+code(n)+" is in the committed version of the workspace (git HEAD) and no longer in the files: customers in it need a `moved` or `removed` block.")
	}
}
