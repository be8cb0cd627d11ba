// Command apidocs writes docs/api.md, the API reference, from the Go types
// in api/v1alpha1: every kind, its fields with their JSON names, types,
// whether they are required, defaults and enums, and the field comments.
// `make docs` runs it; `make verify` fails when docs/api.md is stale.
package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// kinds are documented in this order; other structs follow as "types".
var kinds = []string{"Plan", "SiteTemplate", "Account", "Membership", "Team", "Subscription", "CustomDomain", "Database", "DomainClaim"}

type typeDoc struct {
	name    string
	comment string
	fields  []fieldDoc
	enum    []string // for string enums
}

type fieldDoc struct {
	json, typ, comment string
	required           bool
	def                string
}

var (
	enumMarker    = regexp.MustCompile(`\+kubebuilder:validation:Enum=(.*)`)
	defaultMarker = regexp.MustCompile(`\+kubebuilder:default=(.*)`)
)

func main() {
	dir := "api/v1alpha1"
	out := "docs/api.md"
	if len(os.Args) == 3 {
		dir, out = os.Args[1], os.Args[2]
	}
	types, err := parse(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "apidocs:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(out, render(types), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "apidocs:", err)
		os.Exit(1)
	}
}

func parse(dir string) (map[string]*typeDoc, error) {
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(dir, "*_types.go"))
	if err != nil {
		return nil, err
	}
	types := map[string]*typeDoc{}
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		for _, decl := range file.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.TYPE {
				continue
			}
			for _, spec := range gd.Specs {
				ts := spec.(*ast.TypeSpec)
				doc := gd.Doc
				if ts.Doc != nil {
					doc = ts.Doc
				}
				td := &typeDoc{name: ts.Name.Name, comment: text(doc)}
				if m := enumMarker.FindStringSubmatch(raw(doc)); m != nil {
					td.enum = strings.Split(strings.TrimSpace(m[1]), ";")
				}
				if st, ok := ts.Type.(*ast.StructType); ok {
					td.fields = structFields(st)
				}
				types[ts.Name.Name] = td
			}
		}
	}
	return types, nil
}

func structFields(st *ast.StructType) []fieldDoc {
	var fields []fieldDoc
	for _, f := range st.Fields.List {
		if f.Tag == nil {
			continue
		}
		tag := f.Tag.Value
		i := strings.Index(tag, `json:"`)
		if i < 0 {
			continue
		}
		name := strings.Split(tag[i+6:], `"`)[0]
		name = strings.Split(name, ",")[0]
		if name == "" || name == "metadata" {
			continue
		}
		r := raw(f.Doc)
		fd := fieldDoc{json: name, typ: typeString(f.Type), comment: text(f.Doc), required: strings.Contains(r, "+required")}
		if m := defaultMarker.FindStringSubmatch(r); m != nil {
			fd.def = strings.Trim(strings.TrimSpace(m[1]), `"`)
		}
		fields = append(fields, fd)
	}
	return fields
}

func typeString(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.Ident:
		return t.Name
	case *ast.StarExpr:
		return typeString(t.X)
	case *ast.ArrayType:
		return "[]" + typeString(t.Elt)
	case *ast.SelectorExpr:
		return typeString(t.X) + "." + t.Sel.Name
	case *ast.MapType:
		return "map[" + typeString(t.Key) + "]" + typeString(t.Value)
	}
	return "?"
}

// raw is the comment text with markers; text is the prose without them.
func raw(cg *ast.CommentGroup) string {
	if cg == nil {
		return ""
	}
	var b strings.Builder
	for _, c := range cg.List {
		b.WriteString(strings.TrimPrefix(c.Text, "//"))
		b.WriteString("\n")
	}
	return b.String()
}

func text(cg *ast.CommentGroup) string {
	var lines []string
	for _, l := range strings.Split(raw(cg), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "+") {
			continue
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, " ")
}

func render(types map[string]*typeDoc) []byte {
	var b bytes.Buffer
	b.WriteString("# API reference: hosting.landlord.dev/v1alpha1\n\n")
	b.WriteString("Generated from `api/v1alpha1` by `make docs` (hack/apidocs); do not edit by hand.\n")
	b.WriteString("`kubectl explain <kind>.spec` shows the same descriptions from the installed CRDs.\n\n")
	documented := map[string]bool{}
	var walk func(name string)
	queue := []string{}
	for _, k := range kinds {
		td := types[k]
		if td == nil {
			continue
		}
		fmt.Fprintf(&b, "## %s\n\n%s\n\n", k, td.comment)
		documented[k] = true
		for _, part := range []string{"Spec", "Status"} {
			if t := types[k+part]; t != nil {
				fmt.Fprintf(&b, "### %s.%s\n\n", k, strings.ToLower(part))
				fieldTable(&b, t, types, &queue)
				documented[t.name] = true
			}
		}
	}
	walk = func(name string) {
		td := types[name]
		if td == nil || documented[name] {
			return
		}
		documented[name] = true
		fmt.Fprintf(&b, "### %s\n\n%s\n\n", name, td.comment)
		if len(td.enum) > 0 {
			fmt.Fprintf(&b, "One of: `%s`.\n\n", strings.Join(td.enum, "`, `"))
			return
		}
		fieldTable(&b, td, types, &queue)
	}
	b.WriteString("## Shared types\n\n")
	for len(queue) > 0 {
		sort.Strings(queue)
		name := queue[0]
		queue = queue[1:]
		walk(name)
	}
	return b.Bytes()
}

func fieldTable(b *bytes.Buffer, td *typeDoc, types map[string]*typeDoc, queue *[]string) {
	if len(td.fields) == 0 {
		return
	}
	b.WriteString("| Field | Type | Required | Default | Description |\n|---|---|---|---|---|\n")
	for _, f := range td.fields {
		base := strings.TrimPrefix(f.typ, "[]")
		typ := "`" + f.typ + "`"
		if t := types[base]; t != nil {
			typ = fmt.Sprintf("[%s](#%s)", f.typ, strings.ToLower(base))
			*queue = append(*queue, base)
		}
		req := ""
		if f.required {
			req = "yes"
		}
		def := ""
		if f.def != "" {
			def = "`" + f.def + "`"
		}
		fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s |\n", f.json, typ, req, def, strings.ReplaceAll(f.comment, "|", "\\|"))
	}
	b.WriteString("\n")
}
