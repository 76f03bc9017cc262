package httpapi

import (
	"context"
	"maps"
	"net/http"

	"github.com/parsego/parse"
)

// job answers POST /jobs/{name} (or POST /jobs with a jobName): the job
// starts in the background and the answer, 200 {}, carries the id of its
// _JobStatus in X-Parse-Job-Status-Id. Params are the body's fields
// overridden by the query string's, decoded as a function's.
func (h *handler) job(ctx context.Context, c *call, b []byte) ([]byte, error) {
	params := make(map[string]any, len(c.in.body)+len(c.query))
	maps.Copy(params, c.in.body)
	maps.Copy(params, c.query)
	name := c.route.class
	if name == "" {
		name, _ = params["jobName"].(string)
	}
	decoded, err := parse.DecodeValue(params, false)
	if err != nil {
		return b, err
	}
	id, err := h.app.Jobs.Start(ctx, name, decoded.(map[string]any))
	if err != nil {
		return b, err
	}
	c.header = http.Header{"X-Parse-Job-Status-Id": {id}}
	return append(b, "{}"...), nil
}

// The job schedules (/cloud_code/jobs, master key), as the dashboard
// manages them: a bare array of the _JobSchedule objects; /data names the
// defined jobs and the scheduled ones; create and update take the
// schedule in job_schedule.

// jobSchedules answers GET /cloud_code/jobs.
func (h *handler) jobSchedules(ctx context.Context, b []byte) ([]byte, error) {
	list, err := h.app.Jobs.Schedules(ctx)
	if err != nil {
		return b, err
	}
	return appendArray(b, list, appendObject), nil
}

// jobsData answers GET /cloud_code/jobs/data: {"in_use": [the scheduled
// jobs' names], "jobs": [the defined jobs' names]}.
func (h *handler) jobsData(ctx context.Context, b []byte) ([]byte, error) {
	list, err := h.app.Jobs.Schedules(ctx)
	if err != nil {
		return b, err
	}
	inUse := make([]any, len(list))
	for i, o := range list {
		inUse[i] = o.Fields["jobName"]
	}
	jobs := make([]any, 0)
	for _, name := range h.app.Jobs.Names() {
		jobs = append(jobs, name)
	}
	b = append(b, `{"in_use":`...)
	b = parse.AppendJSON(b, inUse)
	b = append(b, `,"jobs":`...)
	b = parse.AppendJSON(b, jobs)
	return append(b, '}'), nil
}

// jobScheduleSave answers POST /cloud_code/jobs (201, with a Location)
// and PUT /cloud_code/jobs/{id}, whose answer the reference wraps:
// {"response":{"updatedAt":...}}.
func (h *handler) jobScheduleSave(ctx context.Context, c *call, b []byte) ([]byte, error) {
	in, _ := c.in.body["job_schedule"].(map[string]any)
	if in == nil {
		return b, parse.NewError(parse.InvalidJSON, "job_schedule must be an object")
	}
	fields, err := writeFields(input{body: in})
	if err != nil {
		return b, err
	}
	// Compared after the save: the startAfter it sets is not echoed, as
	// the reference's isn't.
	o, err := h.app.Jobs.SaveSchedule(ctx, c.route.id, fields)
	if err != nil {
		return b, err
	}
	if c.route.id == "" {
		c.status = http.StatusCreated
		c.location = h.location(parse.ClassJobSchedule, o.ID)
		return appendSaved(b, fields, nil, o, true), nil
	}
	b = append(b, `{"response":`...)
	b = appendSaved(b, fields, nil, o, false)
	return append(b, '}'), nil
}

// jobScheduleDelete answers DELETE /cloud_code/jobs/{id}: {}.
func (h *handler) jobScheduleDelete(ctx context.Context, c *call, b []byte) ([]byte, error) {
	if err := h.app.Jobs.DeleteSchedule(ctx, c.route.id); err != nil {
		return b, err
	}
	return append(b, "{}"...), nil
}
