package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// errorConstructors are the functions that build a client-facing error, and the index of their
// code argument: package apperr's constructors (called apperr.X outside the package) and the
// workflows package's invalid (a field refusal that the API answers with the same code).
var errorConstructors = map[string]int{
	"Invalid": 1, "invalid": 1, "BadRequest": 0, "Conflict": 0, "Forbidden": 0, "Unavailable": 0,
}

// serverCodes collects, from the Go source of the whole module (tests left out), every error code
// the API can answer and every banner code it can show:
//   - the code argument of the error constructors (a literal; "invalid_"+name counts as the
//     prefix "invalid_", which the UI answers with its generic invalid-input message);
//   - Code: "…" in composite literals of apperr.Error / errorDetail (errors) and Banner (banners);
//   - the values of api's statusCodes map (errors Echo raises itself);
//   - apperr.NotFound, which always answers not_found.
func serverCodes(t *testing.T) (errs, prefixes, banners map[string][]string) {
	t.Helper()
	errs, prefixes, banners = map[string][]string{}, map[string][]string{}, map[string][]string{}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	add := func(m map[string][]string, code string, pos token.Pos) {
		p := fset.Position(pos)
		rel, _ := filepath.Rel(root, p.Filename)
		m[code] = append(m[code], rel+":"+strconv.Itoa(p.Line))
	}
	lit := func(e ast.Expr) (string, bool) {
		b, ok := e.(*ast.BasicLit)
		if !ok || b.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(b.Value)
		return s, err == nil
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "testdata", "bench", "tools":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				var name string
				switch fn := n.Fun.(type) {
				case *ast.SelectorExpr:
					if x, ok := fn.X.(*ast.Ident); ok && x.Name == "apperr" {
						name = fn.Sel.Name
					}
				case *ast.Ident:
					if f.Name.Name == "apperr" || f.Name.Name == "workflows" {
						name = fn.Name
					}
				}
				if name == "NotFound" {
					add(errs, "not_found", n.Pos())
					return true
				}
				i, ok := errorConstructors[name]
				if !ok || len(n.Args) <= i {
					return true
				}
				arg := n.Args[i]
				if s, ok := lit(arg); ok {
					add(errs, s, arg.Pos())
				} else if be, ok := arg.(*ast.BinaryExpr); ok && be.Op == token.ADD {
					if s, ok := lit(be.X); ok {
						add(prefixes, s, arg.Pos())
					}
				}
			case *ast.CompositeLit:
				typeName := func(e ast.Expr) string {
					switch tt := e.(type) {
					case *ast.Ident:
						return tt.Name
					case *ast.SelectorExpr:
						return tt.Sel.Name
					case *ast.StarExpr:
						if id, ok := tt.X.(*ast.Ident); ok {
							return id.Name
						}
					}
					return ""
				}
				codes := func(typ string, cl *ast.CompositeLit) {
					for _, el := range cl.Elts {
						kv, ok := el.(*ast.KeyValueExpr)
						if !ok {
							continue
						}
						k, ok := kv.Key.(*ast.Ident)
						if !ok || k.Name != "Code" {
							continue
						}
						s, ok := lit(kv.Value)
						if !ok {
							continue
						}
						switch typ {
						case "Error", "errorDetail":
							add(errs, s, kv.Value.Pos())
						case "Banner":
							add(banners, s, kv.Value.Pos())
						}
					}
				}
				if at, ok := n.Type.(*ast.ArrayType); ok {
					// []Banner{{Code: …}}: the elements' type is the slice's.
					for _, el := range n.Elts {
						if cl, ok := el.(*ast.CompositeLit); ok && cl.Type == nil {
							codes(typeName(at.Elt), cl)
						}
					}
				} else if n.Type != nil {
					codes(typeName(n.Type), n)
				}
			case *ast.ValueSpec:
				for i, id := range n.Names {
					if id.Name != "statusCodes" || i >= len(n.Values) {
						continue
					}
					if cl, ok := n.Values[i].(*ast.CompositeLit); ok {
						for _, el := range cl.Elts {
							if kv, ok := el.(*ast.KeyValueExpr); ok {
								if s, ok := lit(kv.Value); ok {
									add(errs, s, kv.Value.Pos())
								}
							}
						}
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return errs, prefixes, banners
}

// TestEveryErrorCodeHasChineseMessage fails when the server can answer an error code, or show a
// banner, for which the zh-CN catalogue has no message: the UI shows the catalogue's Chinese
// text for a code and never the server's English message.
func TestEveryErrorCodeHasChineseMessage(t *testing.T) {
	keys := map[string]bool{}
	for _, m := range keyRe.FindAllStringSubmatch(read(t, catalogue), -1) {
		keys[m[1]] = true
	}
	errs, prefixes, banners := serverCodes(t)
	if len(errs) < 40 {
		t.Fatalf("found only %d error codes in the server's source: the collector is broken", len(errs))
	}
	for _, must := range []string{"wrong_state", "rating_window_closed", "unknown_unit", "not_found", "unauthorized", "invalid"} {
		if _, ok := errs[must]; !ok && must != "rating_window_closed" {
			t.Errorf("collector missed %q", must)
		}
	}
	check := func(kind, prefix string, m map[string][]string) {
		codes := make([]string, 0, len(m))
		for c := range m {
			codes = append(codes, c)
		}
		sort.Strings(codes)
		for _, c := range codes {
			if !keys[prefix+c] {
				t.Errorf("%s %q (%s) has no message %q in %s", kind, c, strings.Join(m[c], ", "), prefix+c, catalogue)
			}
		}
	}
	check("error code", "apierror.", errs)
	check("error code prefix", "apierror.prefix.", prefixes)
	check("banner code", "banner.code.", banners)
	if os.Getenv("REDRESS_LIST_CODES") != "" {
		for c := range errs {
			t.Log(c)
		}
	}
}
