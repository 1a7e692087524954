#!/usr/bin/env bash
# Reads Debian's apt sources in both layouts: one-line (`deb [options] URI suite comps` in sources.list and
# sources.list.d/*.list) and deb822 (stanzas in sources.list.d/*.sources). Sourced by setup.sh and by
# its tests, which point APT_ROOT at fixture trees. Comments never count: a URL in a comment is ignored.
# Safe under `set -Eeuo pipefail`: a missing file or an empty layout is not an error.
#
#   apt_sources_entries        one line per enabled source: "<suite> <uri>" (every suite × URI pair)
#   apt_has_suite SUITE        true when some enabled source serves SUITE
#   apt_mirror_for SUITE       the first network URI of the first source that serves SUITE (empty if none)

APT_ROOT="${APT_ROOT:-}"

apt_sources_entries() {
  local dir="$APT_ROOT/etc/apt" f
  local -a oneline=() deb822=()
  if [ -f "$dir/sources.list" ]; then oneline+=("$dir/sources.list"); fi
  # apt reads only these two extensions (not *.save, *.dpkg-old, *.disabled...).
  for f in "$dir"/sources.list.d/*.list; do if [ -f "$f" ]; then oneline+=("$f"); fi; done
  for f in "$dir"/sources.list.d/*.sources; do if [ -f "$f" ]; then deb822+=("$f"); fi; done
  if [ ${#oneline[@]} -gt 0 ]; then
    # deb [options] URI suite component...; options may be "[ a=b c=d ]" with spaces; a cdrom URI
    # ("cdrom:[Debian GNU/Linux ...]/") has spaces inside its brackets.
    awk '{
      sub(/\r$/, ""); sub(/#.*/, "")
      if ($1 != "deb") next
      line = $0
      sub(/^[ \t]*deb[ \t]+/, "", line)
      if (line ~ /^\[/) { if (!sub(/^\[[^]]*\][ \t]*/, "", line)) next }
      if (match(line, /^cdrom:\[[^]]*\]/)) { u = substr(line, 1, RLENGTH); gsub(/[ \t]/, "_", u); line = u substr(line, RLENGTH + 1) }
      n = split(line, w, /[ \t]+/)
      if (n >= 2) print w[2], w[1]
    }' "${oneline[@]}"
  fi
  if [ ${#deb822[@]} -gt 0 ]; then
    # One stanza per paragraph; "Key: value" fields (keys in any case), continuation lines start with
    # white space, "#" lines are comments even inside a stanza. The last stanza may lack a newline.
    awk '
      function off(v) { v = tolower(v); return v ~ /^(no|false|off|without|disable|0)$/ }
      function flush(  i, j, ns, nu, s, u) {
        if (types ~ /(^|[ \t])deb([ \t]|$)/ && !off(enabled)) {
          ns = split(suites, s, /[ \t]+/); nu = split(uris, u, /[ \t]+/)
          for (i = 1; i <= ns; i++) for (j = 1; j <= nu; j++) if (s[i] != "" && u[j] != "") print s[i], u[j]
        }
        types = ""; suites = ""; uris = ""; enabled = ""; key = ""
      }
      FNR == 1 { flush() }
      { sub(/\r$/, "") }
      /^#/ { next }
      /^[ \t]*$/ { flush(); next }
      /^[ \t]/ { val = $0; sub(/^[ \t]+/, "", val)
                 if (key == "types") types = types " " val; else if (key == "uris") uris = uris " " val
                 else if (key == "suites") suites = suites " " val; next }
      {
        k = $0; sub(/:.*/, "", k); key = tolower(k)
        val = $0; sub(/^[^:]*:[ \t]*/, "", val); sub(/[ \t]+$/, "", val)
        if (key == "types") types = val; else if (key == "uris") uris = val
        else if (key == "suites") suites = val; else if (key == "enabled") enabled = val
      }
      END { flush() }
    ' "${deb822[@]}"
  fi
  return 0
}

apt_has_suite() {
  apt_sources_entries | awk -v s="$1" '$1 == s { found = 1 } END { exit !found }'
}

apt_mirror_for() {
  # Reads to the end (no early exit): an exiting reader would kill the writer with SIGPIPE under pipefail.
  # Local media (cdrom:, file:) carry no other suites, so they are no mirror to derive one from.
  apt_sources_entries | awk -v s="$1" '$1 == s && !done && $2 !~ /^(cdrom|file|copy):/ { print $2; done = 1 }'
}
