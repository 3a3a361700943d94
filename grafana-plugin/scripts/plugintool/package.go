package main

import (
	"archive/zip"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Package zips the plugin in dir as outDir/<id>-<version>.zip with every file under <id>/,
// backend binaries executable, after validating it; it returns the zip's path.
func Package(dir, outDir string) (string, error) {
	if problems := ValidateDir(dir); len(problems) > 0 {
		return "", fmt.Errorf("%s does not validate:\n  %s", dir, strings.Join(problems, "\n  "))
	}
	raw, err := os.ReadFile(filepath.Join(dir, "plugin.json"))
	if err != nil {
		return "", err
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return "", err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(outDir, m.ID+"-"+m.Info.Version+".zip")
	f, err := os.Create(out)
	if err != nil {
		return "", err
	}
	defer f.Close()
	w := zip.NewWriter(f)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		header, err := zip.FileInfoHeader(info)
		if err != nil {
			return err
		}
		header.Name = m.ID + "/" + filepath.ToSlash(rel)
		header.Method = zip.Deflate
		if strings.HasPrefix(filepath.Base(p), "gpx_") {
			header.SetMode(0o755)
		}
		entry, err := w.CreateHeader(header)
		if err != nil {
			return err
		}
		src, err := os.Open(p)
		if err != nil {
			return err
		}
		defer src.Close()
		_, err = io.Copy(entry, src)
		return err
	})
	if err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	if problems := ValidateZip(out); len(problems) > 0 {
		return "", fmt.Errorf("%s does not validate:\n  %s", out, strings.Join(problems, "\n  "))
	}
	return out, nil
}
