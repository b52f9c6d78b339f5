package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/parleyhq/parley/internal/attribute"
	"github.com/parleyhq/parley/internal/eventlog"
)

// Attributes is the SQL implementation of attribute.Store.
type Attributes struct{ db *DB }

// NewAttributes returns the attribute store.
func NewAttributes(db *DB) *Attributes { return &Attributes{db: db} }

var _ attribute.Store = (*Attributes)(nil)

const attributeCols = `id, workspace_id, model, name, label, description, data_type, options, archived, messenger_writable, admin_id, created_at, updated_at`

func scanAttribute(row interface{ Scan(...any) error }) (*attribute.Attribute, error) {
	a := &attribute.Attribute{Custom: true, APIWritable: true, UIWritable: true}
	var options *string
	var adminID *int64
	if err := row.Scan(&a.ID, &a.WorkspaceID, &a.Model, &a.Name, &a.Label, &a.Description, &a.DataType, &options, &a.Archived, &a.MessengerWritable, &adminID, &a.CreatedAt, &a.UpdatedAt); err != nil {
		return nil, mapErr(err)
	}
	if options != nil {
		_ = json.Unmarshal([]byte(*options), &a.Options)
	}
	if adminID != nil {
		a.AdminID = *adminID
	}
	a.FullName = "custom_attributes." + a.Name
	return a, nil
}

// Custom implements attribute.Store.
func (s *Attributes) Custom(ctx context.Context, workspaceID, model string, includeArchived bool) ([]*attribute.Attribute, error) {
	q := `SELECT ` + attributeCols + ` FROM data_attributes WHERE workspace_id = ?`
	args := []any{workspaceID}
	if model != "" {
		q += ` AND model = ?`
		args = append(args, model)
	}
	if !includeArchived {
		q += ` AND archived = ?`
		args = append(args, false)
	}
	rows, err := s.db.Read().Query(ctx, q+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*attribute.Attribute
	for rows.Next() {
		a, err := scanAttribute(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, mapErr(rows.Err())
}

// Get implements attribute.Store.
func (s *Attributes) Get(ctx context.Context, workspaceID string, id int64) (*attribute.Attribute, error) {
	return scanAttribute(s.db.Read().QueryRow(ctx, `SELECT `+attributeCols+` FROM data_attributes WHERE workspace_id = ? AND id = ?`, workspaceID, id))
}

func encodeOptions(o []string) *string {
	if len(o) == 0 {
		return nil
	}
	b, _ := json.Marshal(o)
	s := string(b)
	return &s
}

// Create implements attribute.Store.
func (s *Attributes) Create(ctx context.Context, a *attribute.Attribute) error {
	now := time.Now().Unix()
	a.CreatedAt, a.UpdatedAt, a.Custom, a.APIWritable, a.UIWritable = now, now, true, true, true
	a.FullName = "custom_attributes." + a.Name
	if a.Label == "" {
		a.Label = a.Name
	}
	return s.db.InTx(ctx, func(tx *Tx) error {
		var adminID *int64
		if a.AdminID != 0 {
			adminID = &a.AdminID
		}
		err := tx.QueryRow(ctx, `INSERT INTO data_attributes (workspace_id, model, name, label, description, data_type, options, archived, messenger_writable, admin_id, created_at, updated_at)
 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			a.WorkspaceID, a.Model, a.Name, a.Label, a.Description, a.DataType, encodeOptions(a.Options), a.Archived, a.MessengerWritable, adminID, a.CreatedAt, a.UpdatedAt).Scan(&a.ID)
		if err != nil {
			return mapErr(err)
		}
		_, err = eventlog.Append(ctx, tx, a.WorkspaceID, "data_attribute.created", a)
		return err
	})
}

// Update implements attribute.Store.
func (s *Attributes) Update(ctx context.Context, a *attribute.Attribute) error {
	a.UpdatedAt = time.Now().Unix()
	return s.db.InTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE data_attributes SET description = ?, options = ?, archived = ?, messenger_writable = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
			a.Description, encodeOptions(a.Options), a.Archived, a.MessengerWritable, a.UpdatedAt, a.WorkspaceID, a.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		_, err = eventlog.Append(ctx, tx, a.WorkspaceID, "data_attribute.updated", a)
		return err
	})
}
