package cordova

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// KnownPlatforms are the Cordova platforms whose folders Load recognizes.
var KnownPlatforms = []string{"android", "browser", "electron", "ios", "windows"}

// staleTolerance is how much newer the root www/ may be than a platform's
// www folder before the platform counts as stale. A fresh git checkout
// writes the root www/ a few milliseconds after the platform folders.
const staleTolerance = 2 * time.Second

// Platform is one platform folder under platforms/.
type Platform struct {
	Name string // "android", "ios", ...
	Dir  string // absolute platforms/<name>
	// WWW is the absolute path of the folder the platform ships its web
	// resources from, which "cordova prepare" writes.
	WWW string
	// Prepared reports whether WWW contains cordova.js.
	Prepared bool
	// Warning is not empty when the root www/ has changes newer than WWW,
	// so the platform ships older web resources than the project has.
	Warning string
}

// wwwCandidates returns the folders a platform may ship from, preferred
// first: cordova-android 7 and later use app/src/main/assets/www, older
// versions assets/www.
func wwwCandidates(dir, name string) []string {
	if name == "android" {
		return []string{
			filepath.Join(dir, "app", "src", "main", "assets", "www"),
			filepath.Join(dir, "assets", "www"),
		}
	}
	return []string{filepath.Join(dir, "www")}
}

func readPlatforms(ctx context.Context, root string) ([]Platform, error) {
	entries, err := os.ReadDir(filepath.Join(root, "platforms"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read platforms of %s: %w", root, err)
	}

	var sourceNewest newestFile
	sourceScanned := false
	var platforms []Platform
	for _, e := range entries {
		name := e.Name()
		if !slices.Contains(KnownPlatforms, name) {
			continue
		}
		dir := filepath.Join(root, "platforms", name)
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			continue
		}

		p := Platform{Name: name, Dir: dir}
		candidates := wwwCandidates(dir, name)
		p.WWW = candidates[0]
		for _, c := range candidates {
			if isDir(c) {
				p.WWW = c
				break
			}
		}
		p.Prepared = isRegular(filepath.Join(p.WWW, "cordova.js"))

		if p.Prepared {
			if !sourceScanned {
				if sourceNewest, err = newest(ctx, filepath.Join(root, "www")); err != nil {
					return nil, err
				}
				sourceScanned = true
			}
			if p.Warning, err = staleWarning(ctx, root, p, sourceNewest); err != nil {
				return nil, err
			}
		}
		platforms = append(platforms, p)
	}
	return platforms, nil
}

// staleWarning compares the newest change under the root www/ with the
// platform's www folder: the platform is stale when none of its files is
// as new as that change, less staleTolerance.
func staleWarning(ctx context.Context, root string, p Platform, source newestFile) (string, error) {
	if source.path == "" {
		return "", nil
	}
	fresh, err := hasFileSince(ctx, p.WWW, source.modTime.Add(-staleTolerance))
	if err != nil || fresh {
		return "", err
	}
	return fmt.Sprintf("%s is older than www/ (%s changed at %s): run \"cordova prepare %s\" to ship the latest changes",
		relTo(root, p.WWW), relTo(root, source.path), source.modTime.UTC().Format(time.RFC3339), p.Name), nil
}

// errFound stops a walk that found what it looked for.
var errFound = errors.New("found")

// hasFileSince reports whether a file or folder under dir was modified at
// or after t. It stops at the first one, which after "cordova prepare" is
// usually among the first few entries.
func hasFileSince(ctx context.Context, dir string, t time.Time) (bool, error) {
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if !info.ModTime().Before(t) {
			return errFound
		}
		return nil
	})
	if errors.Is(err, errFound) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("compare modification times under %s: %w", dir, err)
	}
	return false, nil
}

type newestFile struct {
	path    string
	modTime time.Time
}

// newest returns the most recently modified file or folder under dir, or a
// zero newestFile when dir does not exist.
func newest(ctx context.Context, dir string) (newestFile, error) {
	var n newestFile
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == dir {
				return filepath.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		// On a tie the file names the change better than its folder.
		if info.ModTime().After(n.modTime) || info.ModTime().Equal(n.modTime) && !d.IsDir() {
			n = newestFile{path: path, modTime: info.ModTime()}
		}
		return nil
	})
	if err != nil {
		return newestFile{}, fmt.Errorf("compare modification times under %s: %w", dir, err)
	}
	return n, nil
}

// SelectPlatforms returns the platforms to build for: every prepared
// platform when names is empty, otherwise the named ones, each of which
// must be added and prepared.
func (p *Project) SelectPlatforms(names []string) ([]Platform, error) {
	platformsDir := filepath.Join(p.Root, "platforms")
	if len(p.Platforms) == 0 {
		return nil, &projectError{
			kind: ErrNoPlatform,
			msg:  fmt.Sprintf("no platform added in %s: run \"cordova platform add android\" (or ios, windows, browser)", platformsDir),
		}
	}

	if len(names) == 0 {
		var prepared []Platform
		for _, pl := range p.Platforms {
			if pl.Prepared {
				prepared = append(prepared, pl)
			}
		}
		if len(prepared) == 0 {
			first := p.Platforms[0]
			return nil, &projectError{
				kind: ErrPlatformNotPrepared,
				msg:  fmt.Sprintf("no platform of %s is prepared: no cordova.js in %s: run \"cordova prepare %s\"", p.Root, first.WWW, strings.ReplaceAll(p.platformNames(), ",", "")),
			}
		}
		return prepared, nil
	}

	var selected []Platform
	for _, name := range names {
		name = strings.ToLower(strings.TrimSpace(name))
		if !slices.Contains(KnownPlatforms, name) {
			return nil, fmt.Errorf("unknown platform %q: use one of %s", name, strings.Join(KnownPlatforms, ", "))
		}
		i := slices.IndexFunc(p.Platforms, func(pl Platform) bool { return pl.Name == name })
		if i < 0 {
			return nil, &projectError{
				kind: ErrPlatformNotAdded,
				msg:  fmt.Sprintf("platform %s is not added in %s (added: %s): run \"cordova platform add %s\"", name, platformsDir, p.platformNames(), name),
			}
		}
		pl := p.Platforms[i]
		if !pl.Prepared {
			return nil, &projectError{
				kind: ErrPlatformNotPrepared,
				msg:  fmt.Sprintf("no cordova.js in %s: run \"cordova prepare %s\"", pl.WWW, name),
			}
		}
		if !slices.ContainsFunc(selected, func(s Platform) bool { return s.Name == name }) {
			selected = append(selected, pl)
		}
	}
	return selected, nil
}

func (p *Project) platformNames() string {
	names := make([]string, len(p.Platforms))
	for i, pl := range p.Platforms {
		names[i] = pl.Name
	}
	return strings.Join(names, ", ")
}

func isDir(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.IsDir()
}

func isRegular(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular()
}

func relTo(root, path string) string {
	rel, err := filepath.Rel(root, path)
	if err != nil {
		return path
	}
	return filepath.ToSlash(rel)
}
