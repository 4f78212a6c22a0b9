package cordova

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// SetAppChecksum sets <mfp:appChecksum> inside <mfp:PLATFORM> of config.xml
// to checksum, creating the element, the platform block or the xmlns:mfp
// declaration when missing. platform is android, ios or windows. Every
// other byte of the file stays as it was, and the file is replaced
// atomically with its permissions kept.
func SetAppChecksum(ctx context.Context, configPath, platform string, checksum uint32) error {
	if !mfpPlatforms[platform] {
		return fmt.Errorf("set app checksum in %s: platform %q has no mfp block: use android, ios or windows", configPath, platform)
	}
	value := strconv.FormatUint(uint64(checksum), 10)
	return editConfig(ctx, configPath, []string{platform, "appChecksum"}, value, func(cfg *Config) bool {
		return cfg.MFP.Platforms[platform].AppChecksum == value
	})
}

// SetPublicKey sets <mfp:directUpdateAuthenticityPublicKey> of config.xml
// to b64, the base64 SubjectPublicKeyInfo devices verify archives with (""
// turns the check off). It edits the file the way SetAppChecksum does.
func SetPublicKey(ctx context.Context, configPath, b64 string) error {
	if _, err := base64.StdEncoding.DecodeString(b64); err != nil {
		return fmt.Errorf("set public key in %s: value is not standard base64: %w: pass the output of \"mfpdev keys public\"", configPath, err)
	}
	return editConfig(ctx, configPath, []string{"directUpdateAuthenticityPublicKey"}, b64, func(cfg *Config) bool {
		return cfg.MFP.PublicKey == b64
	})
}

// editConfig sets the text of the mfp element at path below <widget> and
// writes the file when it changed. check confirms the result carries the
// value.
func editConfig(ctx context.Context, configPath string, path []string, value string, check func(*Config) bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := os.ReadFile(configPath)
	if err != nil {
		return fmt.Errorf("edit %s: %w", configPath, err)
	}

	out, err := SetMFPValue(data, path, value)
	if err != nil {
		return fmt.Errorf("edit %s: %w", configPath, err)
	}
	if bytes.Equal(out, data) {
		return nil
	}
	cfg, err := ParseConfig(out)
	if err != nil || !check(cfg) {
		return fmt.Errorf("edit %s: the edited file would not carry <mfp:%s>%s, so it was left unchanged: set the value by hand", configPath, strings.Join(path, "><mfp:"), value)
	}

	if err := ctx.Err(); err != nil {
		return err
	}
	return writeFileAtomic(configPath, out)
}

// element is one element of config.xml with the byte ranges of its tags.
type element struct {
	name        xml.Name
	start       int // offset of '<' of the start tag
	startEnd    int // offset after '>' of the start tag
	end         int // offset of '<' of the end tag; startEnd when self-closing
	endEnd      int // offset after '>' of the end tag
	selfClosing bool
	attrs       []xml.Attr
	children    []*element
}

// SetMFPValue returns data, the content of a config.xml, with the text of
// the mfp element at path below <widget> (such as ["android",
// "appChecksum"]) set to value, which must need no XML escaping. Missing
// elements and the xmlns:mfp declaration are created with the indentation
// and line endings of their neighbours. All other bytes stay as they were.
func SetMFPValue(data []byte, path []string, value string) ([]byte, error) {
	if strings.ContainsAny(value, "<>&\"'") {
		return nil, fmt.Errorf("value %q contains characters that need XML escaping", value)
	}
	e, err := newEditor(data)
	if err != nil {
		return nil, err
	}
	declared, err := e.findPrefix()
	if err != nil {
		return nil, err
	}
	if !declared {
		// Declare the namespace first, then index the new bytes again, so
		// that no two splices touch the start tag of <widget>.
		e.declareNamespace()
		if e, err = newEditor(e.apply()); err != nil {
			return nil, err
		}
		if _, err := e.findPrefix(); err != nil {
			return nil, err
		}
	}
	e.setValue(path, value)
	return e.apply(), nil
}

func newEditor(data []byte) (*editor, error) {
	root, err := indexElements(data)
	if err != nil {
		return nil, fmt.Errorf("not well-formed XML: %w: fix the file so that it parses", err)
	}
	e := &editor{data: data, root: root, newline: "\n"}
	if bytes.Contains(data, []byte("\r\n")) {
		e.newline = "\r\n"
	}
	return e, nil
}

// indexElements tokenizes data and returns the root element with the byte
// ranges of every element below it.
func indexElements(data []byte) (*element, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	var root *element
	var stack []*element
	for {
		before := int(d.InputOffset())
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		after := int(d.InputOffset())

		switch t := tok.(type) {
		case xml.StartElement:
			el := &element{name: t.Name, start: before, startEnd: after, attrs: t.Attr}
			el.selfClosing = after >= 2 && string(data[after-2:after]) == "/>"
			if len(stack) == 0 {
				if root != nil {
					return nil, fmt.Errorf("second root element <%s>", t.Name.Local)
				}
				root = el
			} else {
				parent := stack[len(stack)-1]
				parent.children = append(parent.children, el)
			}
			stack = append(stack, el)
		case xml.EndElement:
			el := stack[len(stack)-1]
			if el.selfClosing {
				el.end, el.endEnd = el.startEnd, el.startEnd
			} else {
				el.end, el.endEnd = before, after
			}
			stack = stack[:len(stack)-1]
		}
	}
	if root == nil || root.name.Local != "widget" {
		return nil, fmt.Errorf("no <widget> root element")
	}
	return root, nil
}

// splice replaces data[start:end] with text.
type splice struct {
	start, end int
	text       string
}

type editor struct {
	data    []byte
	root    *element
	newline string
	prefix  string // prefix bound to the mfp namespace
	edits   []splice
}

// findPrefix sets the prefix <widget> binds to the mfp namespace and
// reports whether the binding is declared. When it is not, the prefix is
// "mfp" and the caller declares it.
func (e *editor) findPrefix() (bool, error) {
	for _, a := range e.root.attrs {
		if a.Name.Space == "xmlns" && a.Value == MFPNamespace {
			e.prefix = a.Name.Local
			return true, nil
		}
	}
	for _, a := range e.root.attrs {
		if a.Name.Space == "xmlns" && a.Name.Local == "mfp" {
			return false, fmt.Errorf("<widget> binds the prefix mfp to %q: bind it to %q", a.Value, MFPNamespace)
		}
	}
	e.prefix = "mfp"
	return false, nil
}

// declareNamespace adds xmlns:mfp after the last attribute of <widget>,
// on a line of its own when the attributes are on lines of their own.
func (e *editor) declareNamespace() {
	tag := e.data[e.root.start:e.root.startEnd]
	closing := len(tag) - 1
	if e.root.selfClosing {
		closing--
	}
	at := closing
	for at > 0 && isSpace(tag[at-1]) {
		at--
	}

	decl := fmt.Sprintf(`xmlns:mfp="%s"`, MFPNamespace)
	lastLine := bytes.LastIndexByte(tag[:at], '\n')
	if lastLine < 0 {
		decl = " " + decl
	} else {
		indent := leadingSpace(tag[lastLine+1:])
		decl = e.newline + indent + decl
	}
	e.edits = append(e.edits, splice{e.root.start + at, e.root.start + at, decl})
}

// setValue plans the edits that give the element at path the text value.
func (e *editor) setValue(path []string, value string) {
	parent := e.root
	for i, local := range path {
		child := findMFPChild(parent, local)
		if child == nil {
			e.insert(parent, path[i:], value)
			return
		}
		parent = child
	}

	leaf := parent
	if leaf.selfClosing {
		open := bytes.TrimRight(e.data[leaf.start:leaf.startEnd-2], " \t\r\n")
		text := fmt.Sprintf("%s>%s</%s>", open, value, e.rawName(leaf))
		e.edits = append(e.edits, splice{leaf.start, leaf.startEnd, text})
		return
	}
	if len(leaf.children) == 0 && strings.TrimSpace(string(e.data[leaf.startEnd:leaf.end])) == value {
		return
	}
	e.edits = append(e.edits, splice{leaf.startEnd, leaf.end, value})
}

func findMFPChild(parent *element, local string) *element {
	for _, c := range parent.children {
		if isMFP(c.name) && c.name.Local == local {
			return c
		}
	}
	return nil
}

// insert creates the elements path (outermost first) with the leaf text
// value inside parent, after its last mfp child or its last child.
func (e *editor) insert(parent *element, path []string, value string) {
	parentIndent := e.indentOf(parent.start)
	childIndent := parentIndent + e.indentUnit()
	var anchor *element
	for _, c := range parent.children {
		if anchor == nil || isMFP(c.name) || !isMFP(anchor.name) {
			anchor = c
		}
	}
	if anchor != nil {
		if indent := e.indentOf(anchor.start); indent != "" {
			childIndent = indent
		}
	}
	block := e.nested(path, value, childIndent)

	switch {
	case parent.selfClosing:
		open := bytes.TrimRight(e.data[parent.start:parent.startEnd-2], " \t\r\n")
		text := fmt.Sprintf("%s>%s%s%s%s</%s>", open, e.newline, childIndent, block, e.newline+parentIndent, e.rawName(parent))
		e.edits = append(e.edits, splice{parent.start, parent.startEnd, text})
	case anchor != nil:
		e.edits = append(e.edits, splice{anchor.endEnd, anchor.endEnd, e.newline + childIndent + block})
	default:
		text := e.newline + childIndent + block
		if !bytes.Contains(e.data[parent.startEnd:parent.end], []byte("\n")) {
			text += e.newline + parentIndent
		}
		e.edits = append(e.edits, splice{parent.startEnd, parent.startEnd, text})
	}
}

// nested returns the elements path, the innermost holding value, with
// inner lines indented one unit more than indent.
func (e *editor) nested(path []string, value, indent string) string {
	name := e.prefix + ":" + path[0]
	if len(path) == 1 {
		return fmt.Sprintf("<%s>%s</%s>", name, value, name)
	}
	inner := indent + e.indentUnit()
	return fmt.Sprintf("<%s>%s%s%s%s</%s>", name, e.newline, inner, e.nested(path[1:], value, inner), e.newline+indent, name)
}

// indentOf returns the spaces and tabs before offset on its line, or ""
// when other text comes first.
func (e *editor) indentOf(offset int) string {
	lineStart := bytes.LastIndexByte(e.data[:offset], '\n') + 1
	indent := e.data[lineStart:offset]
	if len(bytes.Trim(indent, " \t")) != 0 {
		return ""
	}
	return string(indent)
}

// indentUnit returns one level of indentation as the file uses it: the
// indentation of <widget>'s first indented child, or four spaces.
func (e *editor) indentUnit() string {
	rootIndent := e.indentOf(e.root.start)
	for _, c := range e.root.children {
		indent := e.indentOf(c.start)
		if len(indent) > len(rootIndent) && strings.HasPrefix(indent, rootIndent) {
			return indent[len(rootIndent):]
		}
	}
	return "    "
}

// rawName returns the element name as written in its start tag.
func (e *editor) rawName(el *element) string {
	tag := e.data[el.start+1 : el.startEnd]
	end := bytes.IndexFunc(tag, func(r rune) bool { return r == '/' || r == '>' || r <= ' ' })
	if end < 0 {
		return string(tag)
	}
	return string(tag[:end])
}

// apply returns the data with every planned splice made.
func (e *editor) apply() []byte {
	edits := slices.Clone(e.edits)
	slices.SortFunc(edits, func(a, b splice) int { return b.start - a.start })
	out := slices.Clone(e.data)
	for _, s := range edits {
		out = slices.Concat(out[:s.start], []byte(s.text), out[s.end:])
	}
	return out
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

func leadingSpace(b []byte) string {
	n := 0
	for n < len(b) && (b[n] == ' ' || b[n] == '\t') {
		n++
	}
	return string(b[:n])
}

// writeFileAtomic replaces the file at path (or the file its symbolic link
// leads to) with data. It writes a temporary file in the same folder with
// the same permissions (and owner, when run as root), syncs it and renames
// it over the original.
func writeFileAtomic(path string, data []byte) error {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	info, err := os.Stat(target)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}

	tmp, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	renamed := false
	defer func() {
		if !renamed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(info.Mode().Perm()); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	keepOwner(tmp, info)
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), target); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	renamed = true

	// The rename is durable once the folder is synced. Not every system
	// supports syncing a folder, so a failure here is not reported.
	if dir, err := os.Open(filepath.Dir(target)); err == nil {
		dir.Sync()
		dir.Close()
	}
	return nil
}
