"""``ffnn tune``: hyper-parameter search on the validation split with Optuna.

    ffnn tune --backend numpy --loss mse --epochs 5 --trials 10 --jobs 2 --out runs/tune-mse

searches the learning rate and the batch size (:mod:`ffnn.tune.search`),
selecting on the accuracy of a validation split of the training set. After
the search the best trial is trained once more into ``DIR/best/`` and scored
on the test set, once; ``best.json`` records it and ``ffnn train --config
DIR/best.json`` repeats it. Running the same command again resumes the study
(``--trials`` more trials); ``--storage postgresql://...`` shares one study
between machines.

A search is a :class:`~ffnn.tune.spec.TuneSpec` (backend, TrainConfig,
DataSpec, search space, study, storage, trials, jobs, device), which the
command line builds from its flags; nothing here reads a command line.
"""
from __future__ import annotations

from pathlib import Path

from .search import SearchError
from .spec import Space, TuneSpec, read_best

__all__ = ["TuneSpec", "Space", "read_best", "score_best", "check_optuna", "tune"]


def check_optuna() -> None:
    """A one-line error if Optuna is not installed."""
    try:
        import optuna  # noqa: F401
    except ModuleNotFoundError:
        raise SearchError("ffnn tune needs optuna: pip install 'ffnn[tune]'") from None


def score_best(spec: TuneSpec, study, split, out: Path) -> dict:
    """Train the best trial once more into ``out/best`` and score it on the test set; write ``best.json``.

    If ``best.json`` already holds this study's best trial with the same
    settings, its test accuracy is kept, not measured again.
    """
    from optuna.trial import TrialState

    from ..backends import build
    from ..experiment import train_run
    from ..runs import RunError, read_json, write_json
    from . import report
    from .search import redacted
    from .spec import best_record

    best = study.best_trial
    config = spec.trial_config(best.params.get("learning_rate"), best.params.get("batch_size"))
    settings = best_record(spec, config)
    path, run_dir = out / report.BEST_JSON, out / report.BEST_RUN
    try:
        previous = read_json(path) if path.exists() else {}
    except RunError:
        previous = {}
    counts = {s.name: len(study.get_trials(deepcopy=False, states=(s,))) for s in TrialState}
    record = {**settings, "study": spec.study, "storage": redacted(spec.storage_url()), "trial": best.number,
              "params": best.params, "val_accuracy": best.value,
              "command": f"ffnn train --config {path} --out {run_dir}", "search_space": spec.space.to_dict(),
              "trials": {k.lower(): v for k, v in counts.items() if v}}
    same = ("format", "backend", "config", "data")
    if (previous.get("study"), previous.get("trial")) == (spec.study, best.number) and all(
            previous.get(k) == settings[k] for k in same):
        print(f"The best trial is still trial {best.number}; its test accuracy was measured before and "
              f"is not measured again.")
        keep = ("split", "reproduced_val_accuracy", "test_accuracy", "run_dir")
        record.update({k: previous.get(k) for k in keep})
    else:
        print(f"Training the best trial ({best.number}) once more into {run_dir} and scoring it on the test set",
              flush=True)
        result = train_run(spec.backend, build(spec.backend, config, spec.device), split, spec.device, run_dir)
        if result["interrupted"]:
            raise KeyboardInterrupt
        record.update({"split": split.info, "reproduced_val_accuracy": result["val_accuracy"],
                       "test_accuracy": result["test_accuracy"], "run_dir": str(run_dir)})
    write_json(path, record)
    return record


def tune(spec: TuneSpec, split=None, log=print) -> dict:
    """Run the study of ``spec``: ``spec.trials`` more trials, the trials table and plot, the best trial scored.

    ``split`` is the arrays of ``spec.data`` if the caller has loaded them
    (:func:`ffnn.experiment.load_split`). Returns ``{"rows", "interrupted",
    "best"}``: the trials of the whole study, whether Ctrl-C stopped the
    search (then nothing is scored), and the ``best.json`` record (``None`` if
    interrupted).
    """
    from ..experiment import load_split
    from . import report
    from .search import open_study, redacted, search

    if split is None:
        split = load_split(spec.data)
    out = Path(spec.out)
    out.mkdir(parents=True, exist_ok=True)
    study = open_study(spec)
    log(f"Study {spec.study!r} in {redacted(spec.storage_url())}: {len(study.trials)} trials so far; adding "
        f"{spec.trials} with {min(spec.jobs, max(spec.trials, 1))} process(es). {spec.backend}, "
        f"{spec.config.loss}, {spec.config.epochs} epochs, {split.info['n_train']} training and "
        f"{split.info['n_val']} validation images")
    interrupted = search(spec, study, split)
    rows = report.trial_rows(study, spec.space)
    report.write_trials_csv(rows, out / report.TRIALS_CSV)
    report.plot_tune(rows, out / report.PLOT, f"ffnn tune: study {spec.study!r}, {spec.backend}, "
                                               f"{spec.config.loss}, {len(rows)} trials")
    log(f"{len(rows)} trials in the study: {out / report.TRIALS_CSV}, {out / report.PLOT}")
    if interrupted:
        return {"rows": rows, "interrupted": True, "best": None}
    if not any(r["state"] == "COMPLETE" for r in rows):
        raise SearchError(f"no trial of study {spec.study!r} has completed, so there is no best trial to score")
    return {"rows": rows, "interrupted": False, "best": score_best(spec, study, split, out)}
