package webres

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Tree is the content of a www folder as Scan found it.
type Tree struct {
	Root    string    // absolute path of the www folder
	Files   []File    // regular files in checksum order (see Less)
	Omitted []Omitted // junk left out, sorted by path
}

// Scan lists the regular files under root, sorted in checksum order. It
// follows symbolic links whose target stays inside root (the file keeps the
// link's path and reads the target's content) and leaves out
// operating-system and editor junk, listed in Tree.Omitted. Files the
// plugin leaves out of the checksum (checksum.js, filelist and the like)
// stay in Files. It never returns a partial list: any Problem makes it
// return *InvalidTreeError listing all of them.
func Scan(ctx context.Context, root string) (*Tree, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", root, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", root, err)
	}
	info, err := os.Stat(real)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", root, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("scan %s: not a folder", root)
	}

	s := &scanner{ctx: ctx, realRoot: real, tree: &Tree{Root: abs}}
	if err := s.walkDir(real, "", []string{real}); err != nil {
		return nil, err
	}

	paths := make([]string, len(s.tree.Files))
	for i, f := range s.tree.Files {
		paths[i] = f.Path
	}
	s.problems = append(s.problems, FindCollisions(paths)...)

	slices.SortFunc(s.tree.Files, func(a, b File) int { return compareChecksumOrder(a.Path, b.Path) })
	slices.SortFunc(s.tree.Omitted, func(a, b Omitted) int { return compareChecksumOrder(a.Path, b.Path) })
	if len(s.problems) > 0 {
		slices.SortStableFunc(s.problems, func(a, b Problem) int { return compareChecksumOrder(a.Paths[0], b.Paths[0]) })
		return nil, &InvalidTreeError{Root: abs, Problems: s.problems}
	}
	return s.tree, nil
}

func compareChecksumOrder(a, b string) int {
	switch {
	case Less(a, b):
		return -1
	case Less(b, a):
		return 1
	}
	return 0
}

type scanner struct {
	ctx      context.Context
	realRoot string
	tree     *Tree
	problems []Problem
}

func (s *scanner) problem(path, format string, args ...any) {
	s.problems = append(s.problems, Problem{Paths: []string{path}, Reason: fmt.Sprintf(format, args...)})
}

// walkDir lists dir, whose path relative to the www root is rel ("" for
// the root). ancestors are the real paths of the folders being walked, so
// that a link back to one of them is reported instead of followed.
func (s *scanner) walkDir(dir, rel string, ancestors []string) error {
	if err := s.ctx.Err(); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		s.problem(displayPath(rel), "folder cannot be read: %v: give your user read access to it", unwrapPathError(err))
		return nil
	}

	for _, e := range entries {
		name := e.Name()
		path := joinRel(rel, name)
		full := filepath.Join(dir, name)

		if reason := junkReason(name, e.IsDir()); reason != "" {
			s.tree.Omitted = append(s.tree.Omitted, Omitted{Path: path, Reason: reason})
			continue
		}
		if reason := checkName(name); reason != "" {
			s.problem(path, "%s", reason)
			continue
		}

		if err := s.walkEntry(full, path, e.Type(), ancestors); err != nil {
			return err
		}
	}
	return nil
}

// walkEntry adds one entry of a folder: a file, a folder to walk or a
// symbolic link to resolve.
func (s *scanner) walkEntry(full, path string, mode fs.FileMode, ancestors []string) error {
	target := full
	if mode&fs.ModeSymlink != 0 {
		resolved, ok := s.resolveLink(full, path)
		if !ok {
			return nil
		}
		target = resolved
	}

	info, err := os.Stat(target)
	if err != nil {
		s.problem(path, "cannot be read: %v: give your user read access to it", unwrapPathError(err))
		return nil
	}

	switch {
	case info.IsDir():
		if slices.Contains(ancestors, target) {
			s.problem(path, "symbolic link loops back to its own folder %s: remove the link", s.relToRoot(target))
			return nil
		}
		if target != full {
			if junkReason(filepath.Base(target), true) != "" {
				s.tree.Omitted = append(s.tree.Omitted, Omitted{Path: path, Reason: "link to " + junkReason(filepath.Base(target), true)})
				return nil
			}
		}
		return s.walkDir(target, path, append(ancestors, target))

	case info.Mode().IsRegular():
		f, err := os.Open(target)
		if err != nil {
			s.problem(path, "file cannot be read: %v: give your user read access to it", unwrapPathError(err))
			return nil
		}
		f.Close()
		s.tree.Files = append(s.tree.Files, File{Path: path, DiskPath: target, Size: info.Size()})

	default:
		s.problem(path, "not a regular file or folder (%s): remove it from www", info.Mode().Type())
	}
	return nil
}

// resolveLink returns the real path a symbolic link leads to when it exists
// and stays inside the www folder, and records a problem otherwise.
func (s *scanner) resolveLink(full, path string) (string, bool) {
	dest, _ := os.Readlink(full)
	resolved, err := filepath.EvalSymlinks(full)
	if err != nil {
		if os.IsNotExist(err) {
			s.problem(path, "symbolic link to %q points to nothing: remove the link or restore its target", dest)
		} else {
			s.problem(path, "symbolic link to %q cannot be resolved: %v: point it at a file inside www", dest, unwrapPathError(err))
		}
		return "", false
	}
	if !within(s.realRoot, resolved) {
		s.problem(path, "symbolic link to %q leads outside the www folder, so the file would not ship the same everywhere: copy the file in instead", dest)
		return "", false
	}
	return resolved, true
}

func (s *scanner) relToRoot(real string) string {
	rel, err := filepath.Rel(s.realRoot, real)
	if err != nil || rel == "." {
		return "www"
	}
	return filepath.ToSlash(rel)
}

// within reports whether path is root or below it. Both are real paths.
func within(root, path string) bool {
	if path == root {
		return true
	}
	return strings.HasPrefix(path, strings.TrimSuffix(root, string(filepath.Separator))+string(filepath.Separator))
}

func joinRel(rel, name string) string {
	if rel == "" {
		return name
	}
	return rel + "/" + name
}

func displayPath(rel string) string {
	if rel == "" {
		return "."
	}
	return rel
}

// unwrapPathError drops the path of an *fs.PathError, which the problem
// already names relative to www.
func unwrapPathError(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}
