"""Probabilistic matching of people who share no identifier (name, birthday, address), with Splink on DuckDB.

One matcher serves both `cherish identity match` (customers in the store) and `cherish identity dedupe` (a file).
Every proposed pair carries its match probability and the comparisons that drove it, for our own templates.
"""

from __future__ import annotations

import contextlib
import copy
import logging
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from cherish.errors import InvalidInput

ROLES = ("first_name", "surname", "dob", "email", "phone", "street_number", "address_1", "address_2", "city",
         "postcode", "state", "ssn")
HEADER_ROLES = {
    "given_name": "first_name", "first_name": "first_name", "firstname": "first_name", "forename": "first_name",
    "surname": "surname", "last_name": "surname", "lastname": "surname", "family_name": "surname",
    "date_of_birth": "dob", "dob": "dob", "birthday": "dob", "birth_date": "dob",
    "email": "email", "email_address": "email", "phone": "phone", "phone_number": "phone", "telephone": "phone",
    "street_number": "street_number", "address_1": "address_1", "address_2": "address_2", "address": "address_1",
    "street": "address_1", "suburb": "city", "city": "city", "town": "city", "postcode": "postcode",
    "zip": "postcode", "zipcode": "postcode", "postal_code": "postcode", "state": "state",
    "soc_sec_id": "ssn", "ssn": "ssn",
}


@dataclass
class MatchResult:
    pairs: list[dict[str, Any]]  # id_l, id_r, probability, comparisons
    clusters: dict[str, str]  # record id -> cluster id
    model: dict[str, Any] | None = None  # the model that scored them (Splink's saved settings)
    note: str | None = None  # why no model was used, when none was


def infer_roles(columns: list[str], id_column: str, given: dict[str, str] | None = None) -> dict[str, str]:
    """Role -> column: from ``given`` first, then from common header names."""
    given = dict(given or {})
    for role, column in given.items():
        if role not in ROLES:
            raise InvalidInput(f"unknown column role {role!r}; roles are {', '.join(ROLES)}")
        if column not in columns:
            raise InvalidInput(f"--column {role}={column}: the file has no column {column!r}")
    roles = dict(given)
    for column in columns:
        named = HEADER_ROLES.get(column.strip().lower())
        if column != id_column and named and named not in roles and column not in roles.values():
            roles[named] = column
    if not {"first_name", "surname", "dob", "address_1", "postcode", "email", "phone", "ssn"} & set(roles):
        raise InvalidInput("found no columns to match on (names, birthday, address, postcode, email, phone); "
                           "name them with --column role=COLUMN")
    return roles


def _comparisons(roles: set[str]) -> list[Any]:
    """Comparisons for the roles present, with m priors so that a level EM cannot train still behaves sensibly."""
    import splink.comparison_library as cl

    made = []
    for role in ("first_name", "surname"):
        if role in roles:
            made.append(cl.NameComparison(role, jaro_winkler_thresholds=[0.92, 0.85])
                        .configure(m_probabilities=[0.85, 0.07, 0.03, 0.05]))
    if "dob" in roles:
        made.append(cl.LevenshteinAtThresholds("dob", [1, 2]).configure(m_probabilities=[0.9, 0.05, 0.02, 0.03]))
    for role in ("address_1", "address_2"):
        if role in roles:
            made.append(cl.JaroWinklerAtThresholds(role, [0.92, 0.85])
                        .configure(m_probabilities=[0.8, 0.08, 0.04, 0.08]))
    if "postcode" in roles:
        made.append(cl.LevenshteinAtThresholds("postcode", [1]).configure(m_probabilities=[0.88, 0.06, 0.06]))
    if "ssn" in roles:
        made.append(cl.LevenshteinAtThresholds("ssn", [1, 2]).configure(m_probabilities=[0.9, 0.05, 0.02, 0.03]))
    for role in ("city", "street_number", "state", "email", "phone"):
        if role in roles:  # small vocabularies or identifiers: equal or not
            made.append(cl.ExactMatch(role).configure(m_probabilities=[0.9, 0.1]))
    return made


def _rules(roles: set[str], candidates: list[tuple[str, ...]]) -> list[Any]:
    from splink import block_on

    return [block_on(*cols) for cols in candidates if set(cols) <= roles]


BLOCKING = [("first_name", "surname"), ("surname", "dob"), ("first_name", "dob"), ("postcode", "street_number"),
            ("postcode", "surname"), ("ssn",), ("email",), ("phone",), ("dob", "city"), ("dob", "street_number"),
            ("dob", "address_1")]
# Rules that keep a fair share of true matches among their pairs; low-cardinality fields (postcode, city) are
# poor ones: EM then mistakes "lives in the same town" for "is the same person".
TRAINING = [("dob",), ("first_name", "surname"), ("surname",), ("first_name",), ("ssn",)]


def _normalised(table: pa.Table, id_column: str, roles: dict[str, str]):
    import duckdb

    con = duckdb.connect()
    con.register("raw_input", table)
    selects = [f'CAST("{id_column}" AS VARCHAR) AS unique_id']
    for role, column in roles.items():
        quoted = column.replace('"', '""')
        cleaned = f"NULLIF(TRIM(LOWER(CAST(\"{quoted}\" AS VARCHAR))), '')"
        if role in ("dob", "postcode", "phone", "ssn", "street_number"):
            cleaned = f"NULLIF(REGEXP_REPLACE({cleaned}, '[^0-9a-z]', '', 'g'), '')"
        selects.append(f"{cleaned} AS {role}")
    con.execute(f"CREATE TABLE records AS SELECT {', '.join(selects)} FROM raw_input")
    duplicates = con.execute("SELECT COUNT(*) - COUNT(DISTINCT unique_id) FROM records").fetchall()[0][0]
    if duplicates:
        raise InvalidInput(f"the id column {id_column!r} has {duplicates} repeated values; ids must be unique")
    if con.execute("SELECT COUNT(*) FROM records WHERE unique_id IS NULL").fetchall()[0][0]:
        raise InvalidInput(f"the id column {id_column!r} has empty values")
    return con


def normalised_records(table: pa.Table, *, id_column: str, roles: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Each record's fields by role, cleaned as the matcher compares them, by record id."""
    con = _normalised(table, id_column, roles)
    relation = con.sql("SELECT * FROM records")
    names = relation.columns
    return {str(row[0]): dict(zip(names[1:], row[1:], strict=True)) for row in relation.fetchall()}


MIN_TRAINING_RECORDS = 100  # under this, too few random pairs to estimate how often fields agree by chance


def match_records(table: pa.Table, *, id_column: str, roles: dict[str, str], threshold: float,
                  seed: int = 42, explain: bool = True, model: dict[str, Any] | None = None) -> MatchResult:
    """Score every plausible pair of records in ``table`` and cluster those at or above ``threshold``.

    With ``model`` (a saved one), its parameters score the records; without, a model is trained on them and returned
    in the result, or, when the records are too few to train one, only exact duplicates are joined."""
    from splink import DuckDBAPI, Linker

    if not 0 < threshold <= 1:
        raise InvalidInput("the threshold is a probability between 0 and 1")
    con = _normalised(table, id_column, roles)
    present = set(roles)
    count = con.execute("SELECT COUNT(*) FROM records").fetchall()[0][0]
    if count < 2:
        ids = [r[0] for r in con.execute("SELECT unique_id FROM records").fetchall()]
        return MatchResult(pairs=[], clusters={i: i for i in ids}, model=model)
    if model is None and count < MIN_TRAINING_RECORDS:
        return _exact_duplicates(con, present, count)
    db_api = DuckDBAPI(connection=con)
    records = db_api.register("records")
    logging.getLogger("splink").setLevel(logging.ERROR)
    if model is None:
        # one thread while training: DuckDB's seeded sampling repeats itself only then, and the same records must
        # give the same model (a retrained model is judged against the kept one)
        con.execute("SET threads TO 1")
        try:
            model = train_model(_for_training(con, db_api, present), present, count, seed=seed)
        finally:
            con.execute("RESET threads")
    settings = dict(model, retain_intermediate_calculation_columns=explain, retain_matching_columns=True)
    linker = Linker(records, settings, log_level=None)
    predictions = linker.inference.predict(threshold_match_probability=min(threshold, 0.5))
    clusters_df = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold)
    clusters = {str(r[0]): str(r[1]) for r in clusters_df.as_duckdbpyrelation()
                .select("unique_id, cluster_id").fetchall()}
    pairs = _explain(predictions.as_duckdbpyrelation(), linker, present, threshold) if explain else []
    return MatchResult(pairs=pairs, clusters=clusters, model=model)


def _for_training(con: Any, db_api: Any, present: set[str]) -> Any:
    """The records in an order of their values, numbered in that order: the seeded sampling in training picks rows by
    their ids, and the same people must give the same model whatever ids they were given (two stores, two engines, a
    demo built again)."""
    fields = sorted(present)
    order = ", ".join(f"{f} NULLS LAST" for f in fields)
    con.execute(f"CREATE TABLE training AS SELECT printf('%09d', row_number() OVER (ORDER BY {order})) AS unique_id, "
                f"{', '.join(fields)} FROM records ORDER BY unique_id")
    return db_api.register("training")


def train_model(records: Any, present: set[str], count: int, *, seed: int = 42) -> dict[str, Any]:
    """Train a model on registered ``records``: Splink's settings with the trained parameters, as saved to JSON."""
    from splink import Linker, SettingsCreator

    settings = SettingsCreator(
        link_type="dedupe_only", unique_id_column_name="unique_id", comparisons=_comparisons(present),
        blocking_rules_to_generate_predictions=_rules(present, BLOCKING), retain_matching_columns=True,
    )
    linker = Linker(records, settings, log_level=None)
    exact = _rules(present, [("first_name", "surname", "dob"), ("ssn",), ("email",)])
    if exact:
        # more exact duplicates than the recall allows: the fallback below holds
        with contextlib.suppress(Exception):
            linker.training.estimate_probability_two_random_records_match(exact, recall=0.7)
    prior = linker._settings_obj._probability_two_random_records_match
    if not 0 < prior < 0.5:  # no exact duplicates to learn from: assume at most one duplicate per record
        linker._settings_obj._probability_two_random_records_match = 1 / max(count, 2)
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=seed)
    trained = 0
    for rule in _rules(present, TRAINING):
        before = copy.deepcopy(linker._settings_obj)
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        except Exception as exc:  # noqa: BLE001  (a degenerate level under one rule: the priors and others hold)
            linker._settings_obj = before  # a failed session can leave the model half-changed
            logging.getLogger("cherish.identity").info("EM under %s skipped: %s", rule, type(exc).__name__)
            continue
        if not _plausible(linker):
            linker._settings_obj = before  # EM found some other cluster (a town, a family), not people
            logging.getLogger("cherish.identity").info("EM under %s gave an implausible model: discarded", rule)
            continue
        trained += 1
        if trained == 2:
            break
    return linker.misc.save_model_to_json()


def _exact_duplicates(con: Any, present: set[str], count: int) -> MatchResult:
    """Join only records equal on every field matched on, three or more of them filled (a name alone is not a
    person): too few records to train on."""
    columns = sorted(present)
    filled = " + ".join(f"CASE WHEN {c} IS NULL THEN 0 ELSE 1 END" for c in columns)
    rows = con.execute(f"SELECT unique_id, {', '.join(columns)}, {filled} FROM records").fetchall()
    groups: dict[tuple[Any, ...], list[str]] = {}
    for row in rows:
        if row[-1] >= 3:
            groups.setdefault(tuple(row[1:-1]), []).append(str(row[0]))
    clusters = {str(row[0]): str(row[0]) for row in rows}
    pairs = []
    for ids in groups.values():
        ids.sort()
        for other in ids[1:]:
            clusters[other] = ids[0]
            pairs.append({"id_l": ids[0], "id_r": other, "probability": 1.0,
                          "comparisons": [{"field": c, "level": "exact duplicate"} for c in columns]})
    note = (f"{count} records are too few to train a matching model (it takes {MIN_TRAINING_RECORDS}): "
            "only exact duplicates were joined")
    return MatchResult(pairs=pairs, clusters=clusters, note=note)


def _plausible(linker: Any) -> bool:
    """An exact agreement must be evidence for a match on every comparison, or the model learned the wrong thing."""
    for comparison in linker._settings_obj.comparisons:
        levels = [level for level in comparison.comparison_levels if not level.is_null_level]
        exact = levels[0]
        m, u = exact.m_probability, exact.u_probability
        if m is None or u is None or u <= 0:
            continue
        if m < 2 * u:
            return False
    return True


def _explain(relation: Any, linker: Any, roles: set[str], threshold: float) -> list[dict[str, Any]]:
    """Each pair with its probability and, per comparison, both values, the level reached and its match weight
    (log2 of the Bayes factor: positive is evidence for a match, negative against)."""
    labels: dict[str, dict[int, str]] = {}
    for comparison in linker._settings_obj.comparisons:
        name = comparison.output_column_name
        labels[name] = {level.comparison_vector_value: level.label_for_charts for level in comparison.comparison_levels}
    columns = relation.columns
    rows = relation.filter(f"match_probability >= {float(threshold)}").fetchall()
    pairs = []
    for row in rows:
        data = dict(zip(columns, row, strict=True))
        comparisons = []
        for name, levels in labels.items():
            gamma = data.get(f"gamma_{name}")
            weight = data.get(f"mw_{name}")
            if weight is not None and data.get(f"mw_tf_adj_{name}") is not None:
                weight += data[f"mw_tf_adj_{name}"]
            comparisons.append({
                "field": name, "left": data.get(f"{name}_l"), "right": data.get(f"{name}_r"),
                "level": levels.get(gamma, str(gamma)) if gamma is not None else "None",
                "match_weight": None if weight is None else round(float(weight), 3),
            })
        pairs.append({"id_l": str(data["unique_id_l"]), "id_r": str(data["unique_id_r"]),
                      "probability": float(data["match_probability"]), "comparisons": comparisons})
    return pairs
