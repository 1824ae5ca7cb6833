"""Raw baselines: the rows each scenario reads, fetched with one hand-written SQL query.

API baselines JSON-encode the rows; page baselines render them with a minimal
Django template string. The ratio of a scenario to its baseline is the cost of
everything the app adds on top of "one query and the bytes out": the ORM,
permissions, forms, serializers, middleware and the real templates.
PostgreSQL only (json_agg, LATERAL, PERCENTILE_CONT).
"""

from __future__ import annotations

import datetime
import json

from django.db import connection, transaction
from django.template import Context, Template

STAGE_HEADER = "<h2>{{ column.name }} ({{ column.total }})</h2>"
BOARD_TEMPLATE = Template(
    "<main>{% for column in columns %}<section>" + STAGE_HEADER + "{% for card in column.cards %}"
    '<article><a href="/initiatives/{{ card.key }}/">{{ card.key }} {{ card.name }}</a>'
    "<p>{{ card.team_name }} · {{ card.owner }}</p>"
    "<p>{{ card.required_cleared }}/{{ card.required_total }} required ·"
    " {{ card.met }} met {{ card.missed }} missed {{ card.no_data }} no data"
    "{% if card.overdue %} · overdue{% endif %}{% if card.stalled %} · stalled{% endif %}</p>"
    "</article>{% endfor %}</section>{% endfor %}</main>"
)
INITIATIVE_TEMPLATE = Template(
    "<h1>{{ i.key }} {{ i.name }}</h1><p>{{ i.summary }}</p><p>{{ i.problem }}</p>"
    "<p>{{ i.team }} · {{ i.owner }} · {{ i.sponsor }} · {{ i.stage }} · {{ i.status }}</p>"
    "{% for step in i.transitions %}<li>{{ step.to_stage }} {{ step.at }}</li>{% endfor %}"
    "{% for item in i.items %}<li>{{ item.text }} {{ item.state }} {{ item.evidence_url }}"
    " {{ item.updated_by }}</li>{% endfor %}"
    "{% for target in i.targets %}<li>{{ target.metric_key }} {{ target.comparator }}"
    " {{ target.threshold }}: {{ target.latest_value }} {{ target.status }}"
    " {{ target.series|join:',' }}</li>{% endfor %}"
    "{% for member in i.members %}<li>{{ member.username }} {{ member.stage_role }}</li>"
    "{% endfor %}"
    "{% for entry in i.activities %}<li>{{ entry.created_at }} {{ entry.actor }} {{ entry.verb }}"
    " {{ entry.object_repr }} {{ entry.message }}</li>{% endfor %}"
)
DASHBOARD_TEMPLATE = Template(
    "{% for row in d.figures %}<tr><td>{{ row.stage_id }}</td><td>{{ row.total }}</td>"
    "<td>{{ row.active }}</td><td>{{ row.stalled }}</td><td>{{ row.overdue }}</td>"
    "<td>{{ row.expected_value }}</td><td>{{ row.investment }}</td></tr>{% endfor %}"
    "<p>{{ d.targets.total }} {{ d.targets.met }} {{ d.targets.missed }}</p>"
    "{% for row in d.durations %}<li>{{ row.stage_id }} {{ row.median_days }}</li>{% endfor %}"
    "{% for row in d.months %}<li>{{ row.month }} {{ row.started }} {{ row.advanced }}</li>"
    "{% endfor %}{% for row in d.owners %}<li>{{ row.username }} {{ row.overdue }}</li>{% endfor %}"
    "{% for row in d.purgatory %}<li>{{ row.key }} {{ row.name }}</li>{% endfor %}"
    "{% for row in d.timeline %}<li>{{ row.key }} {{ row.name }} {{ row.value }}"
    "{% for span in row.spans %} {{ span.0 }}@{{ span.1 }}{% endfor %}"
    "{% for tick in row.ticks %} {{ tick.0 }}{% endfor %}</li>{% endfor %}"
    "{% for row in d.gaps %}<li>{{ row.name }} {{ row.with_gap }}/{{ row.active }}</li>{% endfor %}"
)


def _fetch_dicts(sql: str, params) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _fetch_one(sql: str, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _dumps(value) -> bytes:
    return json.dumps(value, default=str).encode()


API_LIST_SQL = """
SELECT i.key, i.name, i.summary, i.problem,
       t.id AS team_id, t.slug AS team_slug, t.name AS team_name,
       o.id AS owner_id, o.username AS owner_username, o.first_name AS owner_first,
       o.last_name AS owner_last,
       s.id AS sponsor_id, s.username AS sponsor_username, s.first_name AS sponsor_first,
       s.last_name AS sponsor_last,
       f.slug AS framework, st.key AS stage_key, st.name AS stage_name, st."order" AS stage_order,
       i.stage_entered_on, i.status, i.maturity_level, i.gate_due_on, i.stalls_on,
       i.version, i.created_at, i.updated_at,
       ARRAY(SELECT tag.name FROM initiatives_initiative_tags link
             JOIN initiatives_tag tag ON tag.id = link.tag_id
             WHERE link.initiative_id = i.id ORDER BY tag.name) AS tags,
       (SELECT COUNT(*) FROM initiatives_initiative) AS total
FROM initiatives_initiative i
JOIN teams_team t ON t.id = i.team_id
JOIN auth_user o ON o.id = i.owner_id
JOIN auth_user s ON s.id = i.sponsor_id
JOIN initiatives_framework f ON f.id = i.framework_id
JOIN initiatives_stage st ON st.id = i.stage_id
ORDER BY i.key
LIMIT %s
"""


def api_list(page_size: int = 100) -> bytes:
    rows = _fetch_dicts(API_LIST_SQL, [page_size])
    total = rows[0]["total"] if rows else 0
    return _dumps({"count": total, "results": rows})


BOARD_SQL = """
WITH base AS (
    SELECT i.id, i.key, i.name, i.stage_id, i.stage_entered_on,
           t.name AS team_name, o.username AS owner,
           (i.status = 'active' AND i.gate_due_on < %(today)s)::int AS overdue,
           (i.status = 'active' AND i.stalls_on < %(today)s)::int AS stalled
    FROM initiatives_initiative i
    JOIN teams_team t ON t.id = i.team_id
    JOIN auth_user o ON o.id = i.owner_id
    WHERE i.framework_id = %(framework)s AND i.status = %(status)s
      AND (%(team)s = '' OR t.slug = %(team)s)
), ranked AS (
    SELECT base.*,
           ROW_NUMBER() OVER (
               PARTITION BY stage_id ORDER BY overdue DESC, stalled DESC, stage_entered_on, key
           ) AS position,
           COUNT(*) OVER (PARTITION BY stage_id) AS column_total
    FROM base
)
SELECT r.*, st.name AS stage_name, st."order" AS stage_order,
       items.required_total, items.required_cleared, tg.met, tg.missed, tg.no_data
FROM ranked r
JOIN initiatives_stage st ON st.id = r.stage_id
LEFT JOIN LATERAL (
    SELECT COUNT(*) AS required_total,
           COUNT(*) FILTER (WHERE ci.state IN ('done', 'not_applicable')) AS required_cleared
    FROM gates_checklistitem ci JOIN gates_gate g ON g.id = ci.gate_id
    WHERE g.initiative_id = r.id AND g.stage_id = r.stage_id AND ci.required
) items ON TRUE
LEFT JOIN LATERAL (
    SELECT COUNT(*) FILTER (WHERE status = 'met') AS met,
           COUNT(*) FILTER (WHERE status = 'missed') AS missed,
           COUNT(*) FILTER (WHERE status = 'no_data') AS no_data
    FROM initiatives_target WHERE initiative_id = r.id
) tg ON TRUE
WHERE r.position <= %(page_size)s
ORDER BY st."order", r.position
"""


def board(*, framework_id: int, team: str = "", status: str = "active", page_size: int) -> bytes:
    params = {
        "today": datetime.date.today(),
        "framework": framework_id,
        "status": status,
        "team": team,
        "page_size": page_size,
    }
    columns: dict[int, dict] = {}
    for row in _fetch_dicts(BOARD_SQL, params):
        column = columns.setdefault(
            row["stage_id"], {"name": row["stage_name"], "total": row["column_total"], "cards": []}
        )
        column["cards"].append(row)
    return BOARD_TEMPLATE.render(Context({"columns": list(columns.values())})).encode()


INITIATIVE_SQL = """
SELECT json_build_object(
  'key', i.key, 'name', i.name, 'summary', i.summary, 'problem', i.problem,
  'status', i.status, 'team', t.name, 'owner', o.username, 'sponsor', s.username,
  'stage', st.name, 'framework', f.name, 'business_case', (
     SELECT row_to_json(bc) FROM initiatives_businesscase bc WHERE bc.initiative_id = i.id),
  'items', (
     SELECT json_agg(x ORDER BY x."order") FROM (
       SELECT ci.id, ci."order", ci.text, ci.required, ci.state, ci.evidence_url, ci.note,
              ci.version, u.username AS updated_by
       FROM gates_checklistitem ci JOIN gates_gate g ON g.id = ci.gate_id
       LEFT JOIN auth_user u ON u.id = ci.updated_by_id
       WHERE g.initiative_id = i.id AND g.stage_id = i.stage_id) x),
  'targets', (
     SELECT json_agg(x ORDER BY x.category, x.metric_key) FROM (
       SELECT tg.category, tg.metric_key, tg.comparator, tg.threshold, tg.latest_value,
              tg.status, ARRAY(SELECT m.value FROM initiatives_measurement m
                               WHERE m.target_id = tg.id
                               ORDER BY m.measured_at DESC, m.id DESC LIMIT 12) AS series
       FROM initiatives_target tg WHERE tg.initiative_id = i.id) x),
  'members', (
     SELECT json_agg(x) FROM (
       SELECT u.username, m.stage_role, m.allocation_percent
       FROM initiatives_membership m JOIN auth_user u ON u.id = m.user_id
       WHERE m.initiative_id = i.id) x),
  'transitions', (
     SELECT json_agg(x ORDER BY x.at) FROM (
       SELECT tr.transitioned_at AS at, ts.name AS to_stage, tr.decision
       FROM gates_stagetransition tr JOIN initiatives_stage ts ON ts.id = tr.to_stage_id
       WHERE tr.initiative_id = i.id) x),
  'activities', (
     SELECT json_agg(x) FROM (
       SELECT a.created_at, a.verb, a.object_repr, a.message, u.username AS actor
       FROM initiatives_activity a LEFT JOIN auth_user u ON u.id = a.actor_id
       WHERE a.initiative_id = i.id ORDER BY a.created_at DESC, a.id DESC LIMIT 16) x))
FROM initiatives_initiative i
JOIN teams_team t ON t.id = i.team_id
JOIN auth_user o ON o.id = i.owner_id
JOIN auth_user s ON s.id = i.sponsor_id
JOIN initiatives_stage st ON st.id = i.stage_id
JOIN initiatives_framework f ON f.id = i.framework_id
WHERE i.key = %s
"""


def initiative_page(key: str) -> bytes:
    initiative = _fetch_one(INITIATIVE_SQL, [key])
    return INITIATIVE_TEMPLATE.render(Context({"i": initiative})).encode()


DASHBOARD_SQL = """
WITH scope AS (
    SELECT * FROM initiatives_initiative WHERE framework_id = %(framework)s
), figures AS (
    SELECT s.stage_id, COUNT(*) AS total,
           COUNT(*) FILTER (WHERE s.status = 'active') AS active,
           COUNT(*) FILTER (WHERE s.status = 'on_hold') AS on_hold,
           COUNT(*) FILTER (WHERE s.status = 'stopped') AS stopped,
           COUNT(*) FILTER (WHERE s.status = 'completed') AS completed,
           COUNT(*) FILTER (WHERE s.status = 'active' AND s.stalls_on < %(today)s) AS stalled,
           COUNT(*) FILTER (WHERE s.status = 'active' AND s.gate_due_on < %(today)s) AS overdue,
           SUM(bc.expected_annual_value) FILTER (WHERE s.status <> 'stopped') AS expected_value,
           SUM(bc.investment_to_date + bc.planned_team_cost + bc.planned_infra_cost)
               FILTER (WHERE s.status <> 'stopped') AS investment
    FROM scope s LEFT JOIN initiatives_businesscase bc ON bc.initiative_id = s.id
    GROUP BY s.stage_id
), targets AS (
    SELECT COUNT(*) AS total, COUNT(*) FILTER (WHERE status = 'met') AS met,
           COUNT(*) FILTER (WHERE status = 'missed') AS missed,
           COUNT(*) FILTER (WHERE status = 'no_data') AS no_data
    FROM initiatives_target
    WHERE initiative_id IN (SELECT id FROM scope WHERE status = 'active')
), history AS (
    SELECT to_stage_id AS stage_id, transitioned_at AS entered_at,
           LEAD(transitioned_at) OVER (PARTITION BY initiative_id
                                       ORDER BY transitioned_at, id) AS left_at
    FROM gates_stagetransition WHERE initiative_id IN (SELECT id FROM scope)
), durations AS (
    SELECT stage_id, COUNT(*) AS entries, COUNT(left_at) AS exits,
           PERCENTILE_CONT(0.5) WITHIN GROUP (
               ORDER BY EXTRACT(EPOCH FROM (left_at - entered_at)) / 86400.0) AS median_days
    FROM history GROUP BY stage_id
), months AS (
    SELECT date_trunc('month', transitioned_at) AS month,
           COUNT(*) FILTER (WHERE from_stage_id IS NULL) AS started,
           COUNT(*) FILTER (WHERE from_stage_id IS NOT NULL) AS advanced
    FROM gates_stagetransition
    WHERE initiative_id IN (SELECT id FROM scope) AND transitioned_at >= %(since)s
    GROUP BY 1
), owners AS (
    SELECT u.username, COUNT(*) AS overdue, MIN(s.gate_due_on) AS oldest_due
    FROM scope s JOIN auth_user u ON u.id = s.owner_id
    WHERE s.status = 'active' AND s.gate_due_on < %(today)s
    GROUP BY u.username ORDER BY 2 DESC, 3, 1 LIMIT 20
), purgatory AS (
    SELECT s.key, s.name, s.stalls_on FROM scope s
    WHERE s.status = 'active' AND s.stalls_on < %(today)s
      AND s.stage_id IN (SELECT id FROM initiatives_stage WHERE framework_id = %(framework)s
                         ORDER BY "order" LIMIT 2)
    ORDER BY s.stage_entered_on, s.key LIMIT 20
), timeline AS (
    SELECT s.key, s.name, s.status, s.stage_id,
           COALESCE(bc.expected_annual_value, 0) AS value,
           (SELECT json_agg(json_build_array(tr.to_stage_id, tr.transitioned_at)
                            ORDER BY tr.transitioned_at, tr.id)
            FROM gates_stagetransition tr WHERE tr.initiative_id = s.id) AS spans,
           (SELECT json_agg(json_build_array(g.due_on, g.state, g.decision, g.decided_at))
            FROM gates_gate g WHERE g.initiative_id = s.id) AS ticks
    FROM scope s LEFT JOIN initiatives_businesscase bc ON bc.initiative_id = s.id
    ORDER BY value DESC, s.key LIMIT 50
), gaps AS (
    -- Active initiatives per team, and those missing a role their stage recommends.
    SELECT t.name, COUNT(*) AS active,
           COUNT(*) FILTER (
               WHERE NOT (st.recommended_roles <@ COALESCE(
                   (SELECT jsonb_agg(DISTINCT m.stage_role) FROM initiatives_membership m
                    WHERE m.initiative_id = s.id), '[]'::jsonb))) AS with_gap
    FROM scope s
    JOIN teams_team t ON t.id = s.team_id
    JOIN initiatives_stage st ON st.id = s.stage_id
    WHERE s.status = 'active'
    GROUP BY t.name
)
SELECT json_build_object(
    'figures', (SELECT json_agg(figures) FROM figures),
    'targets', (SELECT row_to_json(targets) FROM targets),
    'durations', (SELECT json_agg(durations) FROM durations),
    'months', (SELECT json_agg(months ORDER BY month) FROM months),
    'owners', (SELECT json_agg(owners) FROM owners),
    'purgatory', (SELECT json_agg(purgatory) FROM purgatory),
    'timeline', (SELECT json_agg(timeline) FROM timeline),
    'gaps', (SELECT json_agg(gaps) FROM gaps))
"""


def dashboard(*, framework_id: int) -> bytes:
    today = datetime.date.today()
    params = {"framework": framework_id, "today": today, "since": today - datetime.timedelta(365)}
    figures = _fetch_one(DASHBOARD_SQL, params)
    return DASHBOARD_TEMPLATE.render(Context({"d": figures})).encode()


REMINDERS_SQL = """
SELECT json_agg(x) FROM (
    SELECT i.id, i.key, i.name, i.gate_due_on, g.id AS gate_id, g.state AS gate_state,
           g.review_requested_at, o.email AS owner_email, s.email AS sponsor_email,
           (SELECT json_agg(json_build_object('id', u.id, 'email', u.email))
            FROM initiatives_membership m JOIN auth_user u ON u.id = m.user_id
            WHERE m.initiative_id = i.id) AS team,
           (SELECT json_agg(json_build_object('id', u.id, 'email', u.email))
            FROM gates_gatekeeper gk JOIN auth_user u ON u.id = gk.user_id
            WHERE gk.gate_id = g.id AND g.state = 'in_review'
              AND NOT EXISTS (SELECT 1 FROM gates_vote v WHERE v.gate_id = g.id
                              AND v.voter_id = gk.user_id AND v.round = g.review_round))
               AS gatekeepers_waiting
    FROM initiatives_initiative i
    JOIN auth_user o ON o.id = i.owner_id
    JOIN auth_user s ON s.id = i.sponsor_id
    LEFT JOIN gates_gate g ON g.initiative_id = i.id AND g.stage_id = i.stage_id
                           AND g.state <> 'decided'
    WHERE i.status = 'active' AND (
        i.gate_due_on <= %(horizon)s
        OR (g.state = 'in_review' AND g.review_requested_at < %(review_cutoff)s)
        OR COALESCE((SELECT MAX(a.created_at) FROM initiatives_activity a
                     WHERE a.initiative_id = i.id), i.created_at) < %(quiet_cutoff)s)
) x
"""


def reminder_rows() -> bytes:
    now = datetime.datetime.now(tz=datetime.UTC)
    params = {
        "horizon": now.date() + datetime.timedelta(days=7),
        "review_cutoff": now - datetime.timedelta(days=3),
        "quiet_cutoff": now - datetime.timedelta(days=14),
    }
    return _dumps(_fetch_one(REMINDERS_SQL, params))


def ingest(rows: list[tuple[int, float, datetime.datetime]]) -> bytes:
    """One multi-row INSERT of the batch, rolled back like the API scenario."""
    values = ", ".join(["(%s, %s, %s, 'integration', NOW())"] * len(rows))
    params = [value for row in rows for value in row]
    sql = (
        "INSERT INTO initiatives_measurement (target_id, value, measured_at, source, created_at) "
        f"VALUES {values} RETURNING id"
    )
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            ids = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)
    return _dumps({"recorded": len(ids)})


SERIES_SQL = """
SELECT m.id, m.value, m.measured_at, m.source, m.created_at,
       (SELECT COUNT(*) FROM initiatives_measurement c WHERE c.target_id = %(target)s) AS total
FROM initiatives_measurement m
WHERE m.target_id = %(target)s
ORDER BY m.measured_at DESC, m.id DESC
LIMIT %(limit)s
"""


def series(target_id: int, page_size: int = 100) -> bytes:
    """One page of a target's time series, newest first, with the series' length."""
    rows = _fetch_dicts(SERIES_SQL, {"target": target_id, "limit": page_size})
    total = rows[0]["total"] if rows else 0
    return _dumps({"count": total, "results": rows})
