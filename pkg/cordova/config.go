package cordova

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MFPNamespace is the XML namespace of cordova-plugin-mfp's elements in
// config.xml, usually bound to the prefix "mfp".
const MFPNamespace = "http://www.ibm.com/mobilefirst/cordova-plugin-mfp"

// Config is the part of config.xml that mfpdev reads. Strings are trimmed and
// empty when the element or attribute is missing.
type Config struct {
	ID      string // <widget id>
	Version string // <widget version>, the app version updates are keyed on

	AndroidPackageName string // <widget android-packageName>, overrides ID on Android
	IOSBundleID        string // <widget ios-CFBundleIdentifier>, overrides ID on iOS
	AndroidVersionCode string // <widget android-versionCode>, not the update key
	IOSBundleVersion   string // <widget ios-CFBundleVersion>, not the update key

	MFP MFPConfig

	hasID, hasVersion bool
	widgetLine        int
}

// MFPConfig is the content of the plugin's mfp: elements.
type MFPConfig struct {
	ServerURL       string // <mfp:server url>
	Runtime         string // <mfp:server runtime>
	PlatformVersion string // <mfp:platformVersion>
	// PublicKey is <mfp:directUpdateAuthenticityPublicKey>: the base64
	// SubjectPublicKeyInfo devices verify archives with, or "" when devices
	// do not check signatures.
	PublicKey string
	// Platforms holds <mfp:android>, <mfp:ios> and <mfp:windows> by
	// platform name.
	Platforms map[string]MFPPlatform
}

// MFPPlatform is one <mfp:android>, <mfp:ios> or <mfp:windows> block.
type MFPPlatform struct {
	SDKChecksum string // <mfp:sdkChecksum>
	AppChecksum string // <mfp:appChecksum>
	// TestWebResourcesChecksum is <mfp:security><mfp:testWebResourcesChecksum
	// enabled>: whether the app checks its web resources at start-up.
	TestWebResourcesChecksum bool
	// IgnoreFileExtensions is the ignoreFileExtensions attribute of the same
	// element, split at commas ("png, jpg" gives [png jpg]).
	IgnoreFileExtensions []string
}

// mfpPlatforms are the platforms that have an mfp: block in config.xml.
var mfpPlatforms = map[string]bool{"android": true, "ios": true, "windows": true}

func isMFP(name xml.Name) bool {
	// An undeclared prefix is left in Space as written.
	return name.Space == MFPNamespace || name.Space == "mfp"
}

// ParseConfig reads the content of a config.xml. It returns an
// *xml.SyntaxError, with the line, when the XML is not well-formed or the
// root element is not <widget>. It does not check the values.
func ParseConfig(data []byte) (*Config, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	cfg := &Config{MFP: MFPConfig{Platforms: map[string]MFPPlatform{}}}

	var (
		stack    []xml.Name
		text     *strings.Builder // collects the text of a value element
		platform string           // the mfp platform block being read
		rootDone bool
		// seen records the blocks and values read, because the first of
		// duplicates counts, as it does for the editor.
		seen = map[string]bool{}
	)
	for {
		line, _ := d.InputPos() // where the next token starts
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}

		switch t := tok.(type) {
		case xml.StartElement:
			if rootDone {
				return nil, &xml.SyntaxError{Msg: fmt.Sprintf("second root element <%s> after </widget>", t.Name.Local), Line: line}
			}
			stack = append(stack, t.Name)
			if len(stack) == 1 {
				if t.Name.Local != "widget" {
					return nil, &xml.SyntaxError{Msg: fmt.Sprintf("root element is <%s>, want <widget>", t.Name.Local), Line: line}
				}
				cfg.widgetLine = line
				cfg.readWidgetAttrs(t.Attr)
				continue
			}
			if !isMFP(t.Name) {
				continue
			}
			text = nil
			key := mfpKey(stack)
			if seen[key] {
				if len(stack) == 2 {
					platform = ""
				}
				continue
			}
			seen[key] = true
			switch {
			case len(stack) == 2:
				platform = ""
				switch t.Name.Local {
				case "server":
					cfg.MFP.ServerURL = strings.TrimSpace(attr(t.Attr, "url"))
					cfg.MFP.Runtime = strings.TrimSpace(attr(t.Attr, "runtime"))
				case "platformVersion", "directUpdateAuthenticityPublicKey":
					text = &strings.Builder{}
				default:
					if mfpPlatforms[t.Name.Local] {
						platform = t.Name.Local
						cfg.MFP.Platforms[platform] = cfg.MFP.Platforms[platform]
					}
				}
			case len(stack) == 3 && platform != "" && isMFP(stack[1]):
				if t.Name.Local == "sdkChecksum" || t.Name.Local == "appChecksum" {
					text = &strings.Builder{}
				}
			case len(stack) == 4 && platform != "" && isMFP(stack[2]) && stack[2].Local == "security" && t.Name.Local == "testWebResourcesChecksum":
				p := cfg.MFP.Platforms[platform]
				p.TestWebResourcesChecksum = strings.EqualFold(strings.TrimSpace(attr(t.Attr, "enabled")), "true")
				p.IgnoreFileExtensions = splitList(attr(t.Attr, "ignoreFileExtensions"))
				cfg.MFP.Platforms[platform] = p
			}

		case xml.CharData:
			if text != nil {
				text.Write(t)
			}

		case xml.EndElement:
			if text != nil {
				cfg.setText(stack, platform, strings.TrimSpace(text.String()))
				text = nil
			}
			if len(stack) == 2 {
				platform = ""
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				rootDone = true
			}
		}
	}
	if !rootDone {
		return nil, &xml.SyntaxError{Msg: "no <widget> root element", Line: 1}
	}
	return cfg, nil
}

func (cfg *Config) readWidgetAttrs(attrs []xml.Attr) {
	for _, a := range attrs {
		if a.Name.Space != "" {
			continue
		}
		v := strings.TrimSpace(a.Value)
		switch a.Name.Local {
		case "id":
			cfg.ID, cfg.hasID = v, true
		case "version":
			cfg.Version, cfg.hasVersion = v, true
		case "android-packageName":
			cfg.AndroidPackageName = v
		case "ios-CFBundleIdentifier":
			cfg.IOSBundleID = v
		case "android-versionCode":
			cfg.AndroidVersionCode = v
		case "ios-CFBundleVersion":
			cfg.IOSBundleVersion = v
		}
	}
}

// mfpKey names an mfp element by its path below <widget>.
func mfpKey(stack []xml.Name) string {
	var b strings.Builder
	for _, n := range stack[1:] {
		b.WriteString("/")
		if isMFP(n) {
			b.WriteString("mfp:")
		} else {
			b.WriteString("{" + n.Space + "}")
		}
		b.WriteString(n.Local)
	}
	return b.String()
}

// setText stores the text of the value element that just ended.
func (cfg *Config) setText(stack []xml.Name, platform, value string) {
	name := stack[len(stack)-1].Local
	if len(stack) == 2 {
		switch name {
		case "platformVersion":
			cfg.MFP.PlatformVersion = value
		case "directUpdateAuthenticityPublicKey":
			cfg.MFP.PublicKey = value
		}
		return
	}
	p := cfg.MFP.Platforms[platform]
	switch name {
	case "sdkChecksum":
		p.SDKChecksum = value
	case "appChecksum":
		p.AppChecksum = value
	}
	cfg.MFP.Platforms[platform] = p
}

func attr(attrs []xml.Attr, local string) string {
	for _, a := range attrs {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// syntaxLine returns the line of an XML syntax error, or 0.
func syntaxLine(err error) int {
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		return se.Line
	}
	return 0
}
