package server

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/certgate/certgate/policy"
)

// A shadow policy (policy.shadow.dir) is evaluated beside the serving one
// for every decision the serving policy makes, and never changes it: the
// answer has gone to the proxy before the shadow starts. Disagreements are
// logged with both decisions and the decision_id, and counted by route
// and reason. It is how a new route table is tried on real traffic.
//
// The shadow runs on its own goroutines, at most shadowInFlight at a time,
// each bounded by shadowTimeout; a decision that finds every slot taken is
// not shadowed and is counted as dropped. Nothing queues, so the memory a
// client can make the shadow hold is that of shadowInFlight requests.
const (
	shadowInFlight = 2
	shadowTimeout  = time.Second
	// maxShadowRoutes bounds the route label of the disagreement metric;
	// later routes are counted as "other".
	maxShadowRoutes = 256
	// shadowLineRate and shadowLineBurst bound the disagreement lines of
	// each reason (lines a second, lines at once); the metric counts them
	// all, and the next line written says how many were left out.
	shadowLineRate  = 10
	shadowLineBurst = 50
)

// The results of one shadowed decision (certgate_shadow_decisions_total).
const (
	shadowAgree    = "agree"
	shadowDisagree = "disagree"
	shadowDropped  = "dropped"
)

// The reasons of a disagreement (certgate_shadow_disagreements_total), the
// first that applies.
const (
	shadowErrorDiffers      = "error"      // one policy failed, the other decided
	shadowAllowDiffers      = "allow"      // one allows, the other denies
	shadowStatusDiffers     = "status"     // both deny, with other statuses
	shadowPermissionDiffers = "permission" // the permission named differs
	shadowReasonDiffers     = "reason"     // the reason differs
)

// shadowJob is one decision to shadow: the serving policy's answer and the
// input it was made on, which nothing modifies once decided.
type shadowJob struct {
	engine     *policy.Engine
	in         *policy.Input
	serving    policy.Decision
	servingErr error
	decisionID string
	revision   uint64
}

// shadowRunner runs shadow jobs and reports what they find.
type shadowRunner struct {
	slots   chan struct{}
	log     *slog.Logger
	metrics *shadowMetrics
	// lines limits disagreement lines per reason: any client with a valid
	// certificate can cause one per request, as it can a denial.
	lines *denyLimiter

	mu     sync.Mutex
	routes map[string]bool // route labels seen, at most maxShadowRoutes
}

func newShadowRunner(log *slog.Logger, m *Metrics) *shadowRunner {
	r := &shadowRunner{slots: make(chan struct{}, shadowInFlight), log: log, routes: map[string]bool{},
		lines: newDenyLimiter(shadowLineRate, shadowLineBurst)}
	if m != nil {
		r.metrics = m.shadow
	}
	return r
}

// offer starts job when a slot is free, else drops it; it never waits.
func (r *shadowRunner) offer(job *shadowJob) {
	select {
	case r.slots <- struct{}{}:
	default:
		r.metrics.observe(shadowDropped, "", "")
		return
	}
	go func() {
		defer func() { <-r.slots }()
		r.run(job)
	}()
}

// run evaluates job's input with the shadow and reports a disagreement.
func (r *shadowRunner) run(job *shadowJob) {
	ctx, cancel := context.WithTimeout(context.Background(), shadowTimeout)
	defer cancel()
	shadow, err := job.engine.Decide(ctx, job.in)
	reason := disagreement(job.serving, job.servingErr, shadow, err)
	if reason == "" {
		r.metrics.observe(shadowAgree, "", "")
		return
	}
	route := r.routeLabel(job.serving, shadow)
	r.metrics.observe(shadowDisagree, route, reason)
	write, droppedBefore := r.lines.admit(Cause(reason), time.Now())
	if !write {
		return
	}
	attrs := []any{"decision_id", job.decisionID, "revision", job.revision, "reason", reason,
		"method", truncate(job.in.Request.Method, 64), "path", truncate(job.in.Request.Path, 512),
		"serving_allow", allows(job.serving), "serving_status", job.serving.Status,
		"serving_reason", job.serving.Reason, "serving_permission", job.serving.Permission,
		"shadow_allow", allows(shadow), "shadow_status", shadow.Status,
		"shadow_reason", shadow.Reason, "shadow_permission", shadow.Permission}
	if job.servingErr != nil {
		attrs = append(attrs, "serving_error", job.servingErr.Error())
	}
	if err != nil {
		attrs = append(attrs, "shadow_error", err.Error())
	}
	if droppedBefore > 0 {
		attrs = append(attrs, "dropped_before", droppedBefore)
	}
	r.log.Warn("shadow policy disagrees", attrs...)
}

// allows reads d as the Checker does: allow needs allow and status 200.
func allows(d policy.Decision) bool { return d.Allow && d.Status == http.StatusOK }

// disagreement names how the shadow's answer differs from the serving
// one, or "" when they agree. Headers are not compared.
func disagreement(serving policy.Decision, servingErr error, shadow policy.Decision, shadowErr error) string {
	switch {
	case servingErr != nil || shadowErr != nil:
		if (servingErr != nil) != (shadowErr != nil) {
			return shadowErrorDiffers
		}
		return ""
	case allows(serving) != allows(shadow):
		return shadowAllowDiffers
	case !allows(serving) && serving.Status != shadow.Status:
		return shadowStatusDiffers
	case serving.Permission != shadow.Permission:
		return shadowPermissionDiffers
	case serving.Reason != shadow.Reason:
		return shadowReasonDiffers
	}
	return ""
}

// routeLabel names the route of a disagreement by its permission (the
// serving policy's, else the shadow's; "none" when neither names one).
// Permissions come from the policies, not from clients, but a policy may
// compute them: past maxShadowRoutes distinct ones, the rest are "other".
func (r *shadowRunner) routeLabel(serving, shadow policy.Decision) string {
	route := serving.Permission
	if route == "" {
		route = shadow.Permission
	}
	if route == "" {
		return "none"
	}
	route = truncate(route, 128)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.routes[route] {
		if len(r.routes) >= maxShadowRoutes {
			return "other"
		}
		r.routes[route] = true
	}
	return route
}

// shadowMetrics count what the shadow found. A nil *shadowMetrics records
// nothing.
type shadowMetrics struct {
	decisions     *prometheus.CounterVec
	disagreements *prometheus.CounterVec
}

func newShadowMetrics(reg prometheus.Registerer) *shadowMetrics {
	m := &shadowMetrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certgate_shadow_decisions_total",
			Help: "Decisions of the serving policy also evaluated by the shadow policy (policy.shadow.dir), by result: agree, disagree, or dropped (every shadow slot busy; not evaluated).",
		}, []string{"result"}),
		disagreements: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certgate_shadow_disagreements_total",
			Help: "Decisions on which the shadow policy disagreed with the serving one, by route (the permission named, at most 256 distinct, then other) and reason (error, allow, status, permission, reason).",
		}, []string{"route", "reason"}),
	}
	reg.MustRegister(m.decisions, m.disagreements)
	return m
}

func (m *shadowMetrics) observe(result, route, reason string) {
	if m == nil {
		return
	}
	m.decisions.WithLabelValues(result).Inc()
	if result == shadowDisagree {
		m.disagreements.WithLabelValues(route, reason).Inc()
	}
}

// descShadowLoaded is the snapshot collector's gauge of the shadow policy.
var descShadowLoaded = prometheus.NewDesc("certgate_shadow_policy_loaded",
	"1 when the serving snapshot has its shadow policy, 0 when policy.shadow.dir is set but did not load (the snapshot serves without a shadow); absent without one.", nil, nil)

// collectShadow reports snap's shadow policy, if one is configured.
func collectShadow(ch chan<- prometheus.Metric, snap *Snapshot) {
	if snap.ShadowDir == "" {
		return
	}
	loaded := 0.0
	if snap.Shadow != nil {
		loaded = 1
	}
	ch <- prometheus.MustNewConstMetric(descShadowLoaded, prometheus.GaugeValue, loaded)
}
