package store

import "fmt"

// resultRows is the row iterator that database/sql's *Rows and pgx's Rows
// both implement.
type resultRows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// collectApps groups (app id, platform, app version) rows, sorted by app
// id and platform, into one App per app and platform.
func collectApps(rows resultRows, runtime string) ([]App, error) {
	var apps []App
	for rows.Next() {
		var appID, platform, appVersion string
		if err := rows.Scan(&appID, &platform, &appVersion); err != nil {
			return nil, fmt.Errorf("list apps of runtime %s: %w", runtime, err)
		}
		if n := len(apps); n == 0 || apps[n-1].AppID != appID || apps[n-1].Platform != platform {
			apps = append(apps, App{AppID: appID, Platform: platform})
		}
		last := &apps[len(apps)-1]
		last.Versions = append(last.Versions, appVersion)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list apps of runtime %s: %w", runtime, err)
	}
	return apps, nil
}
