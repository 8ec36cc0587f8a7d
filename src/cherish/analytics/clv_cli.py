"""`cherish clv fit` and `cherish clv predict`: lifetime-value models on a transactions file."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import typer

from cherish.cli import app, err, friendly
from cherish.cli_text import plural
from cherish.errors import InvalidInput
from cherish.spreadsheets import csv_writer

clv_app = typer.Typer(help="Lifetime-value models (BG/NBD, Pareto/NBD, MBG/NBD, Gamma-Gamma) on transactions.",
                      no_args_is_help=True)
app.add_typer(clv_app, name="clv")
MODELS = {"bgnbd": "BetaGeo", "pareto": "ParetoNBD", "mbgnbd": "ModifiedBetaGeo"}
TRANSACTIONS_HELP = "CSV, whitespace-separated .txt (columns 1, 2, … without a header) or Parquet."
CUSTOMER_HELP = "The column that names the customer."
DATE_HELP = "The column with the purchase's day or time."
FORMAT_HELP = "strftime format of the dates, e.g. %Y%m%d."


def _date(text: str | None, flag: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{flag} {text!r} is not a date (YYYY-MM-DD)") from None


def _outputs(output: list[Path], json_out: Path | None,
             predictions: Path | None) -> tuple[Path | None, Path | None]:
    """Where `clv fit` writes the fit and the predictions: --output by the file's suffix, or the older spellings."""
    for path in output:
        suffix = path.suffix.lower()
        if suffix not in (".json", ".csv"):
            raise InvalidInput(f"--output {path}: end the name in .json (the fit) or .csv (one row per customer)")
        older, flag = (json_out, "--json") if suffix == ".json" else (predictions, "--predictions")
        if older is not None and older != path:
            raise InvalidInput(f"--output {path} and {flag} {older} both ask for the same output: give one")
        if suffix == ".json":
            json_out = path
        else:
            predictions = path
    return json_out, predictions


def _model(name: str):  # type: ignore[no-untyped-def]
    from cherish.analytics import clv

    if name not in MODELS:
        raise InvalidInput(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    return getattr(clv, MODELS[name])


def _summary(path: Path, customer: str, when: str, amount: str | None, date_format: str | None,
             calibration_end: date, holdout_end: date | None, period: str):  # type: ignore[no-untyped-def]
    from cherish.analytics.clv import summary_from_transactions
    from cherish.analytics.clv.io import read_transactions

    table = read_transactions(path, customer=customer, when=when, amount=amount, date_format=date_format)
    return summary_from_transactions(table, customer="customer", when="day", amount="amount" if amount else None,
                                     calibration_end=calibration_end, holdout_end=holdout_end, period=period)


def _write_predictions(path: Path, summary: Any, model: Any, horizon: float, spend: Any = None) -> None:
    p_alive = model.p_alive(summary.frequency, summary.recency, summary.T)
    predicted = model.conditional_expected_purchases(horizon, summary.frequency, summary.recency, summary.T)
    header = ["customer_id", "frequency", "recency", "T", "p_alive", "predicted_purchases"]
    extra: list[np.ndarray] = []
    if summary.holdout_purchases is not None:
        header.append("actual_purchases")
        extra.append(summary.holdout_purchases)
    if spend is not None:
        header.append("expected_value")
        extra.append(spend.expected_value(summary.frequency, np.nan_to_num(summary.monetary_value, nan=1.0)))
    with path.open("w", newline="") as handle:
        writer = csv_writer(handle)  # customer ids come from the user's data: none may run as a formula
        writer.writerow(header)
        for i, customer in enumerate(summary.customer_id):
            row = [customer, int(summary.frequency[i]), round(summary.recency[i], 6), round(summary.T[i], 6),
                   round(float(p_alive[i]), 6), round(float(predicted[i]), 6)]
            row += [round(float(column[i]), 6) for column in extra]
            writer.writerow(row)


def _choose(summary: Any) -> tuple[dict[str, Any], Any]:
    """MBG/NBD or Pareto/NBD: by holdout error when the summary has a holdout, else by log-likelihood (both have
    four parameters); with the chosen model when it was already fitted on the whole summary (else None)."""
    from cherish.analytics.clv import ConvergenceError, ModifiedBetaGeo, ParetoNBD
    from cherish.analytics.clv.select import choose_model

    if summary.holdout_purchases is not None and summary.holdout_length:
        return choose_model(summary.frequency, summary.recency, summary.T, summary.holdout_purchases,
                            np.ones(len(summary.frequency)), summary.holdout_length).as_dict(), None
    fitted, failed = {}, {}
    for name, model in (("mbgnbd", ModifiedBetaGeo), ("pareto", ParetoNBD)):
        try:
            fitted[name] = model().fit(summary.frequency, summary.recency, summary.T)
        except ConvergenceError as exc:  # the other candidate may still fit
            failed[name] = str(exc)
    if not fitted:
        raise InvalidInput("neither MBG/NBD nor Pareto/NBD could be fitted to this file: "
                           + "; ".join(f"{name}: {why}" for name, why in failed.items()))
    best = max(fitted, key=lambda name: fitted[name].log_likelihood_)
    candidates: dict[str, Any] = {name: {"log_likelihood": m.log_likelihood_} for name, m in fitted.items()}
    candidates.update({name: {"failed": why} for name, why in failed.items()})
    return {"model": best, "reason": "higher log-likelihood (no holdout period given)",
            "candidates": candidates}, fitted[best]


@clv_app.command("fit")
@friendly
def fit(
    transactions: Path = typer.Argument(..., metavar="FILE", help=TRANSACTIONS_HELP),
    customer_column: str = typer.Option(..., "--customer-column", metavar="COLUMN", help=CUSTOMER_HELP),
    date_column: str = typer.Option(..., "--date-column", metavar="COLUMN", help=DATE_HELP),
    amount_column: str | None = typer.Option(None, "--amount-column", metavar="COLUMN",
                                             help="The column with the amount; also fits the Gamma-Gamma spend model."),
    calibration_end: str = typer.Option(..., "--calibration-end", metavar="DATE",
                                        help="Last day (inclusive) of the calibration period."),
    holdout_end: str | None = typer.Option(None, "--holdout-end", metavar="DATE",
                                           help="Compare predictions with the holdout up to this day."),
    period: str = typer.Option("week", "--period", metavar="PERIOD", help="day, or week (days/7)."),
    date_format: str | None = typer.Option(None, "--date-format", metavar="FORMAT", help=FORMAT_HELP),
    model: str = typer.Option("auto", "--model", metavar="MODEL",
                              help="auto (MBG/NBD or Pareto/NBD, whichever predicts the holdout better, or fits "
                                   "better without one), mbgnbd, pareto, or bgnbd (P(alive) 1 for every one-time "
                                   "buyer: it lets customers drop out only after a repeat purchase)."),
    output: list[Path] = typer.Option([], "--output", "-o", metavar="FILE",
                                      help="FILE.json: the fit (reusable by `clv predict`); FILE.csv: one row per "
                                           "customer. Repeatable."),
    json_out: Path | None = typer.Option(None, "--json", metavar="FILE", help="Older spelling of --output FILE.json."),
    predictions: Path | None = typer.Option(None, "--predictions", metavar="FILE",
                                            help="Older spelling of --output FILE.csv."),
) -> None:
    """Fit a lifetime-value model on transactions (same-day purchases merged) and print its parameters."""
    from cherish.analytics.clv import GammaGamma, calibration_and_holdout

    json_out, predictions = _outputs(output, json_out, predictions)
    cal_end, hold_end = _date(calibration_end, "--calibration-end"), _date(holdout_end, "--holdout-end")
    if model != "auto":
        _model(model)
    summary = _summary(transactions, customer_column, date_column, amount_column, date_format, cal_end, hold_end, period)
    choice, fitted = _choose(summary) if model == "auto" else (None, None)
    if choice is not None:
        model = choice["model"]
        err.print(f"chose {model}: {choice['reason']}")
    if fitted is None:  # (without a holdout, choosing fitted the winner on this very summary)
        fitted = _model(model)().fit(summary.frequency, summary.recency, summary.T)
    result: dict[str, Any] = {
        "model": model, "choice": choice, "params": fitted.params_, "log_likelihood": fitted.log_likelihood_,
        "standard_errors": fitted.standard_errors_, "customers": int(len(summary.frequency)),
        "period": period, "calibration_end": cal_end.isoformat(),
    }
    err.print(f"{model} on {plural(len(summary.frequency), 'customer')} ({int((summary.frequency > 0).sum())} with "
              f"repeat purchases), {period}s, calibration through {cal_end}")
    print("  " + "  ".join(f"{k}={v:.6g}" for k, v in fitted.params_.items()) + f"  log-likelihood={fitted.log_likelihood_:.2f}")
    spend = None
    if amount_column:
        repeat = summary.frequency > 0
        if not repeat.any():
            raise InvalidInput("no customer has a repeat purchase: the spend model cannot be fitted")
        spend = GammaGamma().fit(summary.frequency[repeat], summary.monetary_value[repeat])
        result["spend"] = {"model": "gamma_gamma", "params": spend.params_, "log_likelihood": spend.log_likelihood_,
                           "customers": int(repeat.sum())}
        print("  gamma-gamma: " + "  ".join(f"{k}={v:.6g}" for k, v in spend.params_.items())
              + f"  log-likelihood={spend.log_likelihood_:.2f}")
    if hold_end is not None:
        result["holdout"] = calibration_and_holdout(fitted, summary)
        result["holdout_end"] = hold_end.isoformat()
        print(f"  holdout through {hold_end}: predicted {result['holdout']['predicted']:.1f} repeat purchases, "
              f"actual {result['holdout']['actual']:.0f}")
    if json_out:
        json_out.write_text(json.dumps(result, indent=2) + "\n")
    if predictions:
        horizon = summary.holdout_length if summary.holdout_length else (52.0 if period == "week" else 365.0)
        _write_predictions(predictions, summary, fitted, horizon, spend)
        err.print(f"predictions for {plural(len(summary.frequency), 'customer')} in {predictions}")


@clv_app.command("predict")
@friendly
def predict(
    transactions: Path = typer.Argument(..., metavar="FILE", help=TRANSACTIONS_HELP),
    fit_file: Path = typer.Option(..., "--fit", metavar="FILE", help="JSON written by `cherish clv fit -o FILE.json`."),
    customer_column: str = typer.Option(..., "--customer-column", metavar="COLUMN", help=CUSTOMER_HELP),
    date_column: str = typer.Option(..., "--date-column", metavar="COLUMN", help=DATE_HELP),
    amount_column: str | None = typer.Option(None, "--amount-column", metavar="COLUMN",
                                             help="The column with the amount; adds the expected value per customer "
                                                  "when the fit has a spend model."),
    as_of: str = typer.Option(..., "--as-of", metavar="DATE", help="Last day (inclusive) of the history to predict from."),
    horizon: float = typer.Option(52.0, "--horizon", metavar="PERIODS", help="How many periods ahead to predict."),
    date_format: str | None = typer.Option(None, "--date-format", metavar="FORMAT", help=FORMAT_HELP),
    output: Path = typer.Option(..., "--output", "-o", metavar="FILE", help="Where to write one row per customer (CSV)."),
) -> None:
    """Apply a saved fit to (new) transactions: P(alive) and expected purchases per customer."""
    from cherish.analytics.clv import GammaGamma

    try:
        saved = json.loads(fit_file.read_text())
        model_class, params = _model(saved["model"]), saved["params"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"{fit_file} is not a fit written by `cherish clv fit -o FILE.json` ({exc})") from None
    fitted = model_class.from_params(params)
    summary = _summary(transactions, customer_column, date_column, amount_column, date_format,
                       _date(as_of, "--as-of"), None, saved.get("period", "week"))
    spend = GammaGamma.from_params(saved["spend"]["params"]) if amount_column and "spend" in saved else None
    _write_predictions(output, summary, fitted, horizon, spend)
    err.print(f"predictions for {plural(len(summary.frequency), 'customer')} in {output}")
