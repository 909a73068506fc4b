package files

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// WalkOptions say which files below a directory argument are inputs.
type WalkOptions struct {
	// Hidden includes files and directories whose name starts with a dot
	// (a hidden file named as an argument is always an input).
	Hidden bool
	// Include, when not empty, keeps only files whose base name or path
	// below their directory argument matches one of these globs
	// (filepath.Match syntax).
	Include []string
	// Exclude drops files and directories matching one of these globs.
	Exclude []string
	// FollowSymlinks follows symbolic links that point outside the
	// directory arguments; without it such links are skipped and reported.
	FollowSymlinks bool
}

// Input is one file to read.
type Input struct {
	// Path is the path the file is opened by (through any symlink).
	Path string
	// Rel is the slash-free relative path its output takes below --out-dir:
	// the path below the arguments' common parent (a directory argument
	// counts as its own parent, so its tree is kept below it).
	Rel string
	// Named is set for an input given as an argument rather than found in
	// a directory.
	Named bool
}

// Skip is something found in a directory that is not read.
type Skip struct {
	Path   string
	Reason string
	// MayHoldData is set when the skipped entry could hold data (a FIFO,
	// a symlink out of the roots, an unreadable directory): scan's report
	// is then incomplete. Entries skipped by the user's choice (hidden,
	// --exclude, --include) and dangling links or loops are not.
	MayHoldData bool
}

// Expand turns arguments into inputs. Each directory argument is walked
// recursively in lexical order; symlinks to files and directories are
// followed when their target lies inside one of the directory arguments
// (or always with FollowSymlinks), with loop protection. A FIFO, socket or
// device found in a directory is skipped (opening it could block), as is a
// dangling link; every skip is returned with its reason. An argument that
// does not exist is an error.
func Expand(args []string, opt WalkOptions) ([]Input, []Skip, error) {
	for _, g := range append(append([]string(nil), opt.Include...), opt.Exclude...) {
		if _, err := filepath.Match(g, ""); err != nil {
			return nil, nil, fmt.Errorf("glob %q: %w", g, err)
		}
	}
	w := &walker{opt: opt, visited: map[string]bool{}}
	bases := make([]string, len(args))
	for i, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, nil, err
		}
		abs, err := filepath.Abs(a)
		if err != nil {
			return nil, nil, err
		}
		if st.IsDir() {
			bases[i] = abs
			real, err := filepath.EvalSymlinks(abs)
			if err != nil {
				return nil, nil, err
			}
			w.roots = append(w.roots, real)
		} else {
			bases[i] = filepath.Dir(abs)
		}
	}
	parent := commonParent(bases)
	for i, a := range args {
		st, _ := os.Stat(a)
		if !st.IsDir() {
			w.add(a, rel(parent, filepath.Join(bases[i], filepath.Base(a))), true)
			continue
		}
		if err := w.dir(a, bases[i], parent); err != nil {
			return nil, nil, err
		}
	}
	seen := map[string]string{}
	for _, in := range w.inputs {
		if prev, ok := seen[in.Rel]; ok && prev != in.Path {
			return nil, nil, fmt.Errorf("%s and %s would both be written as %s", prev, in.Path, in.Rel)
		}
		seen[in.Rel] = in.Path
	}
	return w.inputs, w.skips, nil
}

type walker struct {
	opt     WalkOptions
	roots   []string
	visited map[string]bool // real paths of directories walked
	inputs  []Input
	skips   []Skip
}

func (w *walker) add(path, rel string, named bool) {
	w.inputs = append(w.inputs, Input{Path: path, Rel: rel, Named: named})
}

func (w *walker) skip(path, reason string, data bool) {
	w.skips = append(w.skips, Skip{Path: path, Reason: reason, MayHoldData: data})
}

// dir walks directory d (opened as path d, at absolute path abs).
func (w *walker) dir(d, abs, parent string) error {
	real, err := filepath.EvalSymlinks(d)
	if err != nil {
		w.skip(d, "unreadable directory: "+errText(err), true)
		return nil
	}
	if w.visited[real] {
		w.skip(d, "directory already walked (symlink loop or second link)", false)
		return nil
	}
	w.visited[real] = true
	ents, err := os.ReadDir(d)
	if err != nil {
		w.skip(d, "unreadable directory: "+errText(err), true)
		return nil
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	for _, e := range ents {
		p := filepath.Join(d, e.Name())
		pabs := filepath.Join(abs, e.Name())
		r := rel(parent, pabs)
		if !w.opt.Hidden && strings.HasPrefix(e.Name(), ".") {
			kind := "hidden file"
			if e.IsDir() {
				kind = "hidden directory"
			}
			w.skip(p, kind+" (use --hidden)", false)
			continue
		}
		if w.matches(w.opt.Exclude, e.Name(), r) {
			w.skip(p, "excluded by --exclude", false)
			continue
		}
		typ := e.Type()
		if typ&fs.ModeSymlink != 0 {
			target, err := filepath.EvalSymlinks(p)
			if err != nil {
				w.skip(p, "dangling or unreadable symlink", false)
				continue
			}
			if !w.opt.FollowSymlinks && !w.inRoots(target) {
				w.skip(p, "symlink to outside the given directories (use --follow-symlinks)", true)
				continue
			}
			st, err := os.Stat(p)
			if err != nil {
				w.skip(p, "unreadable symlink: "+errText(err), true)
				continue
			}
			typ = st.Mode().Type()
		}
		switch {
		case typ.IsDir():
			if err := w.dir(p, pabs, parent); err != nil {
				return err
			}
		case typ.IsRegular():
			if len(w.opt.Include) > 0 && !w.matches(w.opt.Include, e.Name(), r) {
				w.skip(p, "not matched by --include", false)
				continue
			}
			w.add(p, r, false)
		default:
			w.skip(p, "not a regular file ("+typeName(typ)+")", true)
		}
	}
	return nil
}

func (w *walker) matches(globs []string, name, rel string) bool {
	for _, g := range globs {
		if ok, _ := filepath.Match(g, name); ok {
			return true
		}
		if ok, _ := filepath.Match(g, filepath.ToSlash(rel)); ok {
			return true
		}
	}
	return false
}

func (w *walker) inRoots(real string) bool {
	for _, r := range w.roots {
		if real == r || strings.HasPrefix(real, r+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

func typeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "FIFO"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return m.String()
}

func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// commonParent returns the deepest directory holding every path.
func commonParent(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	p := paths[0]
	for _, q := range paths[1:] {
		for !within(q, p) {
			up := filepath.Dir(p)
			if up == p {
				break
			}
			p = up
		}
	}
	return p
}

func within(path, dir string) bool {
	return path == dir || strings.HasPrefix(path, strings.TrimSuffix(dir, string(filepath.Separator))+string(filepath.Separator))
}

func rel(parent, path string) string {
	r, err := filepath.Rel(parent, path)
	if err != nil {
		return filepath.Base(path)
	}
	return r
}
