// Package webupdate turns the prepared platforms of a Cordova project into
// direct-update archives: it is the library behind
// "mfpdev app webupdate --build".
//
// Building happens in two steps so that nothing is written unless
// everything is valid. Prepare reads the project, scans each platform's www
// folder, computes the web-resources checksum and checks the signing key
// against the key the app trusts, and it writes nothing. Plan.Write writes
// every archive (each to a temporary file renamed into place), and only
// after all of them succeeded refreshes filelist and checksum.js in each
// platform www folder and the appChecksum elements of config.xml, as the
// plugin's own build does.
package webupdate

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/mfpdev/mfpdev/pkg/bundle"
	"github.com/mfpdev/mfpdev/pkg/cordova"
	"github.com/mfpdev/mfpdev/pkg/signing"
	"github.com/mfpdev/mfpdev/pkg/webres"
)

// OutputFolder is the folder of the project root that receives archives.
const OutputFolder = "mobilefirst"

// Options configure Prepare.
type Options struct {
	// Platforms to build; empty means every prepared platform.
	Platforms []string
	// SigningKey signs the archives; nil leaves them unsigned, which is an
	// error when config.xml names a directUpdateAuthenticityPublicKey.
	SigningKey *rsa.PrivateKey
	// OutputDir receives the archives; empty means <project>/mobilefirst.
	OutputDir string
	// BuildTime is recorded in checksum.js and as every zip entry's time
	// (see webres.BuildTime); the zero value means 1980-01-01.
	BuildTime time.Time
	// CreatedBy is recorded in the archive metadata, such as "mfpdev 1.2.0".
	CreatedBy string
	// CompressionLevel is the Deflate level, from 1 (fastest) to 9
	// (smallest); 0 means bundle.DefaultLevel.
	CompressionLevel int
}

// Plan is a validated build: everything Write needs, computed without
// writing anything.
type Plan struct {
	Project   *cordova.Project
	Platforms []PlatformPlan
	// Warnings are problems that do not stop the build, such as a platform
	// www folder that looks older than the project's root www.
	Warnings []string

	options Options
}

// PlatformPlan is the archive of one platform.
type PlatformPlan struct {
	Platform   cordova.Platform
	AppID      string
	Tree       *webres.Tree
	Sum        webres.Sum
	ChecksumJS []byte
	Job        bundle.Job
}

// Archive describes one written archive. Its JSON form is the contract of
// "mfpdev app webupdate --json".
type Archive struct {
	Platform        string   `json:"platform"`
	Path            string   `json:"path"` // relative to the project root
	AppID           string   `json:"appId"`
	AppVersion      string   `json:"appVersion"`
	PluginVersion   string   `json:"pluginVersion"`
	PlatformVersion string   `json:"platformVersion"`
	Checksum        uint32   `json:"checksum"`
	Size            int64    `json:"size"`
	Files           int      `json:"files"`
	PackedSize      int64    `json:"packedSize"`
	SHA256          string   `json:"sha256"`
	Signed          bool     `json:"signed"`
	Excluded        []string `json:"excluded"`
	// AbsPath is the archive's absolute path; it is not part of the JSON.
	AbsPath string `json:"-"`
}

// ErrSigningKeyRequired is returned when config.xml names a public key but
// no signing key was given.
var ErrSigningKeyRequired = errors.New("signing key required")

// ErrSigningKeyMismatch is returned when the signing key's public half is
// not the key config.xml names.
var ErrSigningKeyMismatch = errors.New("signing key does not match config.xml")

// Prepare reads the project, scans the selected platforms and checks the
// signing key. It writes nothing.
func Prepare(ctx context.Context, project *cordova.Project, opts Options) (*Plan, error) {
	if opts.CompressionLevel < 0 || opts.CompressionLevel > 9 {
		return nil, fmt.Errorf("compression level %d is invalid: use 1 (fastest) to 9 (smallest)", opts.CompressionLevel)
	}
	if err := checkSigningKey(project, opts.SigningKey); err != nil {
		return nil, err
	}

	platforms, err := project.SelectPlatforms(opts.Platforms)
	if err != nil {
		return nil, err
	}
	if opts.OutputDir == "" {
		opts.OutputDir = filepath.Join(project.Root, OutputFolder)
	}

	plan := &Plan{Project: project, options: opts}
	if len(opts.Platforms) == 0 {
		for _, p := range project.Platforms {
			if !p.Prepared {
				plan.Warnings = append(plan.Warnings, fmt.Sprintf(
					"%s is added but not prepared (no cordova.js in %s), so it was skipped: run \"cordova prepare %s\"",
					p.Name, relPath(project.Root, p.WWW), p.Name))
			}
		}
	}
	for _, platform := range platforms {
		if err := checkPrepared(project, platform); err != nil {
			return nil, err
		}
		if platform.Warning != "" {
			plan.Warnings = append(plan.Warnings, platform.Warning)
		}
		pp, err := preparePlatform(ctx, project, platform, opts)
		if err != nil {
			return nil, err
		}
		plan.Platforms = append(plan.Platforms, pp)
	}
	return plan, nil
}

// preparedFiles are the files "cordova prepare" writes into every platform
// www folder of a project that uses cordova-plugin-mfp. An archive without
// them would break the app it is applied to.
var preparedFiles = []string{"cordova.js", "cordova_plugins.js", "plugins/" + cordova.PluginID}

func checkPrepared(project *cordova.Project, platform cordova.Platform) error {
	for _, name := range preparedFiles {
		if _, err := os.Stat(filepath.Join(platform.WWW, filepath.FromSlash(name))); err != nil {
			return fmt.Errorf("package %s: %s has no %s, so it is not completely prepared: run \"cordova prepare %s\"",
				platform.Name, relPath(project.Root, platform.WWW), name, platform.Name)
		}
	}
	return nil
}

func checkSigningKey(project *cordova.Project, key *rsa.PrivateKey) error {
	trusted := project.Config.MFP.PublicKey
	if key != nil {
		if err := signing.CheckKeySize(&key.PublicKey); err != nil {
			return err
		}
	}
	if trusted == "" {
		return nil
	}
	configPath := relPath(project.Root, project.ConfigPath)
	trustedKey, err := signing.ParsePublicKeyBase64(trusted)
	if err != nil {
		return fmt.Errorf("%s: directUpdateAuthenticityPublicKey is invalid: %w", configPath, err)
	}
	if key == nil {
		return fmt.Errorf("%w: %s sets directUpdateAuthenticityPublicKey, so devices reject unsigned archives with FAILURE_INTEGRITY: pass --sign-key with the matching private key", ErrSigningKeyRequired, configPath)
	}
	if !key.PublicKey.Equal(trustedKey) {
		got, _ := signing.PublicKeyBase64(&key.PublicKey)
		return fmt.Errorf("%w: the signing key's public key %s is not the directUpdateAuthenticityPublicKey of %s, so devices would reject the archives with FAILURE_INTEGRITY; the key an installed app trusts cannot change without a store release: sign with the private key of %s",
			ErrSigningKeyMismatch, abbreviate(got), configPath, abbreviate(trusted))
	}
	return nil
}

func preparePlatform(ctx context.Context, project *cordova.Project, platform cordova.Platform, opts Options) (PlatformPlan, error) {
	tree, err := webres.Scan(ctx, platform.WWW)
	if err != nil {
		return PlatformPlan{}, fmt.Errorf("package %s: %w", platform.Name, err)
	}
	sum, err := tree.Sum(ctx)
	if err != nil {
		return PlatformPlan{}, fmt.Errorf("package %s: %w", platform.Name, err)
	}
	checksumJS := webres.ChecksumJS(sum.Checksum, opts.BuildTime)

	// The archive ships the fresh filelist and checksum.js, whatever the
	// folder holds now.
	files := make([]bundle.SourceFile, 0, len(tree.Files)+2)
	var unpacked int64
	for _, f := range tree.Files {
		if f.Path == webres.FileListName || f.Path == webres.ChecksumJSPath {
			continue
		}
		files = append(files, bundle.SourceFile{Path: f.Path, DiskPath: f.DiskPath})
		unpacked += f.Size
	}
	files = append(files,
		bundle.SourceFile{Path: webres.FileListName, Content: sum.FileList},
		bundle.SourceFile{Path: webres.ChecksumJSPath, Content: checksumJS})
	unpacked += int64(len(sum.FileList)) + int64(len(checksumJS))

	appID := project.AppID(platform.Name)
	dest := filepath.Join(opts.OutputDir, ArchiveName(appID, platform.Name, project.Config.Version))
	job := bundle.Job{
		Dest:  dest,
		Files: files,
		Meta: bundle.Metadata{
			FormatVersion:   bundle.FormatVersion,
			AppID:           appID,
			Platform:        platform.Name,
			AppVersion:      project.Config.Version,
			PluginVersion:   project.PluginVersion.String(),
			PlatformVersion: project.Config.MFP.PlatformVersion,
			Checksum:        sum.Checksum,
			Size:            sum.Size,
			Files:           len(files),
			UnpackedSize:    unpacked,
			CreatedBy:       opts.CreatedBy,
		},
	}
	return PlatformPlan{Platform: platform, AppID: appID, Tree: tree, Sum: sum, ChecksumJS: checksumJS, Job: job}, nil
}

// ArchiveName returns the file name of the archive of one platform:
// <appId>-<platform>-<appVersion>.zip.
func ArchiveName(appID, platform, appVersion string) string {
	return fmt.Sprintf("%s-%s-%s.zip", appID, platform, appVersion)
}

// TotalBytes returns the number of bytes Write reads, for a progress bar.
func (p *Plan) TotalBytes() int64 {
	var n int64
	for _, pp := range p.Platforms {
		for _, f := range pp.Tree.Files {
			n += f.Size
		}
	}
	return n
}

// Write writes every archive, then refreshes filelist and checksum.js in
// each platform www folder and the appChecksum elements of config.xml.
// progress, when not nil, receives the number of bytes read so far.
// When Write fails or ctx is cancelled while archives are written, no
// partial archive is left and previous archives are kept.
func (p *Plan) Write(ctx context.Context, progress func(int64)) ([]Archive, error) {
	jobs := p.jobs("")
	results, err := bundle.WriteArchives(ctx, jobs, p.writeOptions(progress))
	if err != nil {
		return nil, err
	}
	if err := p.refreshProject(ctx); err != nil {
		return nil, err
	}
	return p.archives(results), nil
}

// Staged is a set of archives written outside the output folder, for a
// push: Commit moves them into place and refreshes the project once the
// server has them, and Discard removes them, so that a failed or
// interrupted push leaves the project and its output folder as they were.
type Staged struct {
	// Archives describe the staged files; Path is where Commit puts them.
	Archives []Archive

	plan *Plan
	dir  string
}

// WriteStaged writes every archive into a new hidden folder inside the
// output folder and changes nothing else. The caller must call Commit or
// Discard.
func (p *Plan) WriteStaged(ctx context.Context, progress func(int64)) (*Staged, error) {
	if err := os.MkdirAll(p.options.OutputDir, 0o755); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(p.options.OutputDir, ".staging-")
	if err != nil {
		return nil, err
	}
	results, err := bundle.WriteArchives(ctx, p.jobs(dir), p.writeOptions(progress))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &Staged{Archives: p.archives(results), plan: p, dir: dir}, nil
}

// Commit moves the staged archives into the output folder and refreshes
// the project's filelist, checksum.js and config.xml.
func (s *Staged) Commit(ctx context.Context) ([]Archive, error) {
	defer os.RemoveAll(s.dir)
	for i, a := range s.Archives {
		final := s.plan.Platforms[i].Job.Dest
		if err := os.Rename(a.AbsPath, final); err != nil {
			return nil, fmt.Errorf("move archive into %s: %w", filepath.Dir(final), err)
		}
		s.Archives[i].AbsPath = final
	}
	if err := s.plan.refreshProject(ctx); err != nil {
		return nil, err
	}
	return s.Archives, nil
}

// Discard removes the staged archives.
func (s *Staged) Discard() error {
	return os.RemoveAll(s.dir)
}

// jobs returns the plan's bundle jobs, writing into dir instead of the
// output folder when dir is not empty.
func (p *Plan) jobs(dir string) []bundle.Job {
	jobs := make([]bundle.Job, len(p.Platforms))
	for i, pp := range p.Platforms {
		jobs[i] = pp.Job
		if dir != "" {
			jobs[i].Dest = filepath.Join(dir, filepath.Base(pp.Job.Dest))
		}
	}
	return jobs
}

func (p *Plan) writeOptions(progress func(int64)) bundle.WriteOptions {
	opts := bundle.WriteOptions{ModTime: p.options.BuildTime, Progress: progress, Level: p.options.CompressionLevel}
	if key := p.options.SigningKey; key != nil {
		opts.Signer = key
	}
	return opts
}

// archives describes the written archives. Path is always the final path
// relative to the project root, wherever the file was written.
func (p *Plan) archives(results []bundle.Result) []Archive {
	archives := make([]Archive, len(p.Platforms))
	for i, pp := range p.Platforms {
		excluded := make([]string, 0, len(pp.Tree.Omitted))
		for _, o := range pp.Tree.Omitted {
			excluded = append(excluded, o.Path)
		}
		meta := pp.Job.Meta
		archives[i] = Archive{
			Platform:        pp.Platform.Name,
			Path:            relPath(p.Project.Root, pp.Job.Dest),
			AbsPath:         results[i].Path,
			AppID:           meta.AppID,
			AppVersion:      meta.AppVersion,
			PluginVersion:   meta.PluginVersion,
			PlatformVersion: meta.PlatformVersion,
			Checksum:        meta.Checksum,
			Size:            meta.Size,
			Files:           meta.Files,
			PackedSize:      results[i].PackedSize,
			SHA256:          results[i].SHA256,
			Signed:          results[i].Signed,
			Excluded:        excluded,
		}
	}
	return archives
}

// refreshProject writes each platform's fresh filelist and checksum.js and
// records the checksums in config.xml, so that a store build made from the
// project carries the same checksum as the archive.
func (p *Plan) refreshProject(ctx context.Context) error {
	for _, pp := range p.Platforms {
		if err := p.refreshPlatform(ctx, pp); err != nil {
			return err
		}
	}
	return nil
}

func (p *Plan) refreshPlatform(ctx context.Context, pp PlatformPlan) error {
	www := pp.Platform.WWW
	if err := writeFileAtomic(filepath.Join(www, webres.FileListName), pp.Sum.FileList); err != nil {
		return fmt.Errorf("update %s: %w", pp.Platform.Name, err)
	}
	if err := writeFileAtomic(filepath.Join(www, filepath.FromSlash(webres.ChecksumJSPath)), pp.ChecksumJS); err != nil {
		return fmt.Errorf("update %s: %w", pp.Platform.Name, err)
	}
	if err := cordova.SetAppChecksum(ctx, p.Project.ConfigPath, pp.Platform.Name, pp.Sum.Checksum); err != nil {
		return fmt.Errorf("update %s: %w", pp.Platform.Name, err)
	}
	return nil
}

// writeFileAtomic replaces path's content through a temporary file in the
// same folder, so that an interruption leaves either the old or the new
// content. It keeps the mode of an existing file.
func writeFileAtomic(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if info, err := os.Stat(path); err == nil {
		mode = info.Mode().Perm()
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func relPath(root, path string) string {
	rel, err := filepath.Rel(root, path)
	if err != nil {
		return path
	}
	return filepath.ToSlash(rel)
}

// abbreviate shortens a base64 key for messages: its first and last
// characters are enough to tell two keys apart.
func abbreviate(b64 string) string {
	if len(b64) <= 24 {
		return b64
	}
	return b64[:12] + "…" + b64[len(b64)-8:]
}
