// Package postgres is an iam.Store over PostgreSQL.
package postgres

import (
	_ "github.com/iamkit/iam"
	_ "github.com/jackc/pgx/v5/pgxpool"
)
