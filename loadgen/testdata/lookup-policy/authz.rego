# A stand-in for a very fast policy, for `certgate bench --policy-dir`: it
# answers the bench mix by one table lookup, so a run measures what certgate
# costs around the policy. It is not a policy to deploy.
package certgate.authz



default decision := {"allow": false, "status": 403, "reason": "no_route", "permission": "", "headers": {}, "response_headers": {}}

decision := {"allow": true, "status": 200, "reason": "granted", "permission": p, "headers": {}, "response_headers": {}} if {
	p := grant
}

grant := data.bench.users[concat(" ", [input.identity.user, input.request.method, input.request.path])]

grant := data.bench.groups[concat(" ", [input.identity.groups[_], input.request.method, input.request.path])]
