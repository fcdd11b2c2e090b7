package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"redress/apperr"
	"redress/models"
	"redress/store"
)

// Attachments are the evidence of a rectification (issue 18): photos and PDFs that an officer or
// unit leader adds to a rectifying order's progress or completion. They are stored with the
// order (migration 00020), at most maxAttachmentBytes each and maxAttachmentsPerOrder per
// order, and shown to the staff who may see the order — the administrator who reviews the
// result and the auditor among them — never on the public or citizen pages.
//
// The file is the request body (Content-Type its type; ?filename= and ?note= name and describe
// it), not a multipart form: one file per request, read within a hard limit, nothing to parse.
// The type is decided by the bytes (http.DetectContentType), not by what the client says, so a
// script cannot be stored as an "image"; downloads are served as attachments with nosniff.
const (
	maxAttachmentBytes     = 5 << 20
	maxAttachmentsPerOrder = 20
	attachmentRoute        = "/api/v1/work-orders/:id/attachments"
)

// attachmentTypes are the types accepted (by content), with the extension a download gets.
var attachmentTypes = map[string]string{
	"image/jpeg":      ".jpg",
	"image/png":       ".png",
	"image/gif":       ".gif",
	"image/webp":      ".webp",
	"application/pdf": ".pdf",
}

func (s *Server) routesAttachments() {
	v1 := s.e.Group("/api/v1")
	v1.POST("/work-orders/:id/attachments", s.postAttachment)
	v1.GET("/work-orders/:id/attachments", s.listAttachments)
	v1.GET("/work-orders/:id/attachments/:aid", s.getAttachment)
}

// postAttachment stores one file for a rectifying order in the caller's units.
func (s *Server) postAttachment(c echo.Context) error {
	r, err := s.findOrder(c)
	if err != nil {
		return err
	}
	if r.State != models.StateRectifying {
		return apperr.Conflict("wrong_state", "evidence can be attached while the order is being rectified (state rectifying), not in state %s", r.State)
	}
	name := strings.TrimSpace(c.QueryParam("filename"))
	note := strings.TrimSpace(c.QueryParam("note"))
	switch {
	case name == "":
		return apperr.Invalid("filename", "required", "name the file (?filename=)")
	case utf8.RuneCountInString(name) > 200 || strings.ContainsAny(name, "/\\\r\n\""):
		return apperr.Invalid("filename", "invalid_filename", "the file name is longer than 200 characters or holds / \\ \" or a line break")
	case utf8.RuneCountInString(note) > 500:
		return apperr.Invalid("note", "too_long", "note is longer than 500 characters")
	}
	body := http.MaxBytesReader(c.Response(), c.Request().Body, maxAttachmentBytes+1)
	content, err := io.ReadAll(body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) || len(content) > maxAttachmentBytes {
		return &apperr.Error{Status: http.StatusRequestEntityTooLarge, Code: "file_too_large", Field: "file",
			Message: fmt.Sprintf("a file may be at most %d MB", maxAttachmentBytes>>20)}
	}
	if err != nil {
		return fmt.Errorf("read attachment: %w", err)
	}
	if len(content) == 0 {
		return apperr.Invalid("file", "required", "the request body is the file; it is empty")
	}
	sniffed, _, _ := mime.ParseMediaType(http.DetectContentType(content))
	if _, ok := attachmentTypes[sniffed]; !ok {
		return apperr.Invalid("file", "invalid_file_type", "only images (JPEG, PNG, GIF, WebP) and PDF files can be attached; this file reads as %s", sniffed)
	}
	a, err := s.attachments.Add(c.Request().Context(), caller(c), r.ID, func(o store.OrderRow, held int64) (store.Attachment, models.TimelineEvent, error) {
		if held >= maxAttachmentsPerOrder {
			return store.Attachment{}, models.TimelineEvent{}, apperr.Conflict("too_many_attachments", "an order holds at most %d attachments", maxAttachmentsPerOrder)
		}
		sum := sha256.Sum256(content)
		a := store.Attachment{ID: uuid.NewString(), WorkOrderID: o.ID, Filename: name, ContentType: sniffed, Size: int64(len(content)),
			SHA256: hex.EncodeToString(sum[:]), Note: note, Content: content, UploadedBy: principal(c).User.Login, CreatedAt: time.Now().UTC()}
		ev, err := evidenceEvent(o.WorkOrder, a)
		return a, ev, err
	})
	if err != nil {
		return orderError(err)
	}
	return c.JSON(http.StatusCreated, a)
}

// evidenceEvent is the timeline event of an upload. The upload happens outside the order's
// workflow, so the event takes no number of the workflow's own (numbered 1, 2, … with no gap,
// migration 00018): it is keyed by the workflow and the attachment (…/evidence/<attachment id>,
// one event per file, never written twice), carries the number of the last workflow event so
// that it sorts after what preceded it, and is no run's event (an empty run_id), so that an
// operator's reset does not supersede it (activities.RecordEvent leaves models.OutsideWorkflowEvents
// alone): the file stays stored whatever the workflow does.
func evidenceEvent(wo models.WorkOrder, a store.Attachment) (models.TimelineEvent, error) {
	// What a person reads on the timeline: the file's name and type (the type in words on the
	// page) and the uploader's note; the attachment's id is in the event's key.
	data := map[string]any{"filename": a.Filename, "content_type": a.ContentType}
	if a.Note != "" {
		data["note"] = a.Note
	}
	b, err := json.Marshal(struct {
		Attachment string `json:"attachment"`
		Actor      string `json:"actor"`
		Type       string `json:"type"`
		SHA256     string `json:"sha256"`
	}{a.ID, a.UploadedBy, models.EventEvidenceAdded, a.SHA256})
	if err != nil {
		return models.TimelineEvent{}, fmt.Errorf("evidence event: %w", err)
	}
	sum := sha256.Sum256(b)
	return models.TimelineEvent{ID: wo.WorkflowID + "/evidence/" + a.ID, WorkOrderID: wo.ID, Seq: wo.Version, At: a.CreatedAt,
		Actor: a.UploadedBy, Type: models.EventEvidenceAdded, Data: models.NewJSON(data), ContentHash: hex.EncodeToString(sum[:])}, nil
}

// listAttachments answers an order's attachments (no content), oldest first.
func (s *Server) listAttachments(c echo.Context) error {
	id, err := orderID(c)
	if err != nil {
		return err
	}
	out, err := s.attachments.List(c.Request().Context(), caller(c), id)
	if err != nil {
		return orderError(err)
	}
	return c.JSON(http.StatusOK, map[string]any{"items": out})
}

// getAttachment downloads one attachment of an order in the caller's scope.
func (s *Server) getAttachment(c echo.Context) error {
	id, err := orderID(c)
	if err != nil {
		return err
	}
	a, err := s.attachments.Get(c.Request().Context(), caller(c), id, c.Param("aid"))
	if errors.Is(err, store.ErrNoAttachment) {
		return apperr.NotFound("attachment")
	}
	if err != nil {
		return orderError(err)
	}
	h := c.Response().Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox")
	h.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{"filename": a.Filename}))
	return c.Blob(http.StatusOK, a.ContentType, a.Content)
}
