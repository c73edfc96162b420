package server

import (
	"context"
	"net/http"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/certgate/certgate/bundles"
	"github.com/certgate/certgate/crlfetch"
	adminv1 "github.com/certgate/certgate/gen/certgate/admin/v1"
	"github.com/certgate/certgate/identity"
	"github.com/certgate/certgate/trust"
)

// maxExplainPEM bounds the certificate an operator may ask about.
const maxExplainPEM = 256 << 10

// AdminService implements certgate.admin.v1.AdminService on top of a running
// Checker and its Reloader.
type AdminService struct {
	adminv1.UnimplementedAdminServiceServer
	Checker  *Checker
	Reloader *Reloader
	// CRLWarnBefore is the lead time before a CRL's nextUpdate from which
	// GetStatus shows it as expiring.
	CRLWarnBefore time.Duration
	// Version is the certgate version GetStatus reports.
	Version string
	// CRLFetcher, when set, is the fetcher of CRLs over HTTP whose
	// sources GetStatus reports.
	CRLFetcher *crlfetch.Fetcher
	// Bundles, when set, reports the OPA bundles the policy comes from.
	Bundles func() []bundles.Status
}

// GetStatus reports the serving snapshot and the last reload.
func (a *AdminService) GetStatus(context.Context, *adminv1.GetStatusRequest) (*adminv1.GetStatusResponse, error) {
	resp := &adminv1.GetStatusResponse{Version: a.Version}
	if a.CRLFetcher != nil {
		resp.CrlFetch = crlFetchStatus(a.CRLFetcher)
	}
	// A bundle's status matters most before the first snapshot: it says
	// why there is none.
	if a.Bundles != nil {
		for _, b := range a.Bundles() {
			resp.Bundles = append(resp.Bundles, bundleStatus(b))
		}
	}
	// One load: the reload record and the snapshot it left serving are
	// published together, so a reload finishing meanwhile cannot show its
	// result beside the snapshot it replaced.
	st := a.Checker.state.Load()
	if st == nil {
		return resp, nil
	}
	rs := st.reload
	resp.ReloadSuccesses, resp.ReloadFailures = rs.Successes, rs.Failures
	if !rs.Last.At.IsZero() {
		resp.LastReload = reloadAttempt(rs.Last)
	}
	if st.snap != nil {
		resp.Snapshot = a.snapshotStatus(st)
	}
	return resp, nil
}

func (a *AdminService) snapshotStatus(st *serving) *adminv1.Snapshot {
	snap, now := st.snap, a.Checker.now()
	ts := snap.Trust.Status()
	out := &adminv1.Snapshot{
		Revision:            snap.Revision,
		LoadedAt:            timestamppb.New(snap.LoadedAt),
		Digest:              snap.Digest,
		PolicyFiles:         snap.Policy.Files(),
		CrlMode:             string(ts.Mode),
		OnStaleCrl:          string(ts.OnStaleCRL),
		VerdictCacheEntries: uint64(st.verdicts.len()),
		ShadowPolicy:        shadowPolicyStatus(snap),
	}
	for _, ca := range ts.CAs {
		out.CertificateAuthorities = append(out.CertificateAuthorities, &adminv1.CertificateAuthority{
			Subject: ca.Subject, NotBefore: timestamppb.New(ca.NotBefore), NotAfter: timestamppb.New(ca.NotAfter),
			Intermediate: ca.Intermediate, FingerprintSha256: ca.FingerprintSHA256,
		})
	}
	for _, crl := range ts.CRLs {
		out.RevocationLists = append(out.RevocationLists, &adminv1.RevocationList{
			Issuer: crl.Issuer, Number: crl.Number, File: crl.File, RevokedCount: uint64(crl.Revoked),
			ThisUpdate: timestamppb.New(crl.ThisUpdate), NextUpdate: timestamppb.New(crl.NextUpdate),
			State: crlState(crl, now, a.CRLWarnBefore),
		})
	}
	return out
}

// crlState classifies a CRL at now: stale past nextUpdate, expiring within
// warnBefore of it.
func crlState(crl trust.CRLStatus, now time.Time, warnBefore time.Duration) adminv1.RevocationListState {
	switch {
	case now.Before(crl.ThisUpdate):
		return adminv1.RevocationListState_REVOCATION_LIST_STATE_NOT_YET_VALID
	case !crl.NextUpdate.IsZero() && !now.Before(crl.NextUpdate):
		return adminv1.RevocationListState_REVOCATION_LIST_STATE_STALE
	case !crl.NextUpdate.IsZero() && crl.NextUpdate.Sub(now) <= warnBefore:
		return adminv1.RevocationListState_REVOCATION_LIST_STATE_EXPIRING
	}
	return adminv1.RevocationListState_REVOCATION_LIST_STATE_CURRENT
}

func reloadAttempt(a ReloadAttempt) *adminv1.ReloadAttempt {
	out := &adminv1.ReloadAttempt{AttemptedAt: timestamppb.New(a.At), Trigger: a.Trigger, Revision: a.Revision}
	switch a.Result {
	case ReloadSuccess:
		out.Result = adminv1.ReloadResult_RELOAD_RESULT_SUCCESS
	case ReloadUnchanged:
		out.Result = adminv1.ReloadResult_RELOAD_RESULT_UNCHANGED
	case ReloadFailure:
		out.Result = adminv1.ReloadResult_RELOAD_RESULT_FAILURE
	}
	if a.Err != nil {
		out.Error = a.Err.Error()
	}
	return out
}

// Reload loads the files again and swaps the result in; a failure keeps the
// serving snapshot and is reported in the response, not as an RPC error.
func (a *AdminService) Reload(ctx context.Context, _ *adminv1.ReloadRequest) (*adminv1.ReloadResponse, error) {
	if a.Reloader == nil {
		return nil, status.Error(codes.FailedPrecondition, "this certgate has no reloader")
	}
	return &adminv1.ReloadResponse{Attempt: reloadAttempt(a.Reloader.Attempt(ctx, "admin API"))}, nil
}

// Explain runs the pipeline for a certificate, method, path and headers,
// and tells each step's outcome.
func (a *AdminService) Explain(ctx context.Context, req *adminv1.ExplainRequest) (*adminv1.ExplainResponse, error) {
	if req.GetCertificatePem() == "" {
		return nil, status.Error(codes.InvalidArgument, "certificate_pem is empty")
	}
	if len(req.GetCertificatePem()) > maxExplainPEM {
		return nil, status.Errorf(codes.InvalidArgument, "certificate_pem is larger than %d bytes", maxExplainPEM)
	}
	if req.GetMethod() == "" || !strings.HasPrefix(req.GetPath(), "/") {
		return nil, status.Error(codes.InvalidArgument, "method and an absolute path (starting with /) are required")
	}
	// Every certificate of the PEM counts, leaf first, as a TLS client
	// would send them; one that cannot be read is the operator's error.
	chain, err := identity.DecodePEM([]byte(req.GetCertificatePem()), a.Checker.identity.ChainLimit())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "certificate_pem: %v", err)
	}
	headers := make(map[string]string, len(req.GetHeaders()))
	for k, v := range req.GetHeaders() {
		headers[strings.ToLower(k)] = v
	}
	r := &Request{
		Method: req.GetMethod(), Target: req.GetPath(), Host: headers["host"], Scheme: "https", Protocol: "HTTP/1.1",
		Headers: headers, Presented: &identity.Presented{Chain: chain, Source: identity.SourceExplain}, Adapter: "admin",
		// Explained as the ext_authz adapter decides, whose proxy removes
		// what the Result lists.
		RemovesHeaders: true,
	}
	ex := a.Checker.Explain(ctx, r, req.GetTrace())
	resp := &adminv1.ExplainResponse{
		Revision: ex.Revision,
		Chain: &adminv1.ChainVerdict{Valid: ex.Chain.Valid, Reason: ex.Chain.Reason, Detail: ex.Chain.Detail,
			Path: ex.Chain.Path, StaleCrl: ex.Chain.StaleCRL},
		Decision: &adminv1.Decision{Allow: ex.Result.Allow, Status: int32(ex.Result.Status), Reason: ex.Result.Reason,
			Permission: ex.Result.Permission},
		Trace: ex.Trace,
	}
	if ex.Identity != nil {
		resp.Identity = identityMessage(ex.Identity)
	}
	for _, rt := range ex.Routes {
		resp.Decision.MatchedRoutes = append(resp.Decision.MatchedRoutes, &adminv1.Route{Permission: rt.Permission, Method: rt.Method, Path: rt.Path})
	}
	if ex.Result.Allow {
		resp.Decision.UpstreamHeaders = map[string]string{}
		for _, h := range ex.Result.UpstreamHeaders {
			resp.Decision.UpstreamHeaders[h.Name] = h.Value
		}
	}
	if ex.Result.Status == http.StatusInternalServerError && ex.Revision == 0 {
		return nil, status.Error(codes.Unavailable, ex.Result.Reason)
	}
	return resp, nil
}

func identityMessage(id *identity.Identity) *adminv1.Identity {
	return &adminv1.Identity{
		User: id.User, Groups: id.Groups, OrgUnits: id.OrgUnits, Subject: id.Subject, Issuer: id.Issuer,
		Serial: id.Serial, FingerprintSha256: id.FingerprintSHA256,
		DnsNames: id.SANs.DNS, IpAddresses: id.SANs.IP, EmailAddresses: id.SANs.Email, Uris: id.SANs.URI,
		SpiffeId: id.SPIFFEID, NotBefore: timestamppb.New(id.NotBefore), NotAfter: timestamppb.New(id.NotAfter),
	}
}

// ListPermissions lists every permission of the loaded data with its routes
// and holders.
func (a *AdminService) ListPermissions(ctx context.Context, _ *adminv1.ListPermissionsRequest) (*adminv1.ListPermissionsResponse, error) {
	snap := a.Checker.Snapshot()
	if snap == nil {
		return nil, status.Error(codes.Unavailable, "no policy snapshot loaded")
	}
	perms, err := snap.Policy.Permissions(ctx)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "list permissions: %v", err)
	}
	resp := &adminv1.ListPermissionsResponse{Revision: snap.Revision}
	for _, p := range perms {
		m := &adminv1.Permission{Name: p.Name, Groups: p.Groups, Users: p.Users, EveryAuthenticatedIdentity: p.Everyone}
		for _, rt := range p.Routes {
			m.Routes = append(m.Routes, &adminv1.Route{Permission: p.Name, Method: rt.Method, Path: rt.Path})
		}
		resp.Permissions = append(resp.Permissions, m)
	}
	return resp, nil
}

// shadowPolicyStatus describes snap's shadow policy; nil when none is
// configured.
func shadowPolicyStatus(snap *Snapshot) *adminv1.ShadowPolicyStatus {
	if snap.ShadowDir == "" {
		return nil
	}
	out := &adminv1.ShadowPolicyStatus{Dir: snap.ShadowDir, Loaded: snap.Shadow != nil, Digest: snap.ShadowFilesDigest}
	if snap.Shadow != nil {
		out.PolicyFiles = snap.Shadow.Files()
	}
	if snap.ShadowErr != nil {
		out.LastError = snap.ShadowErr.Error()
	}
	return out
}
