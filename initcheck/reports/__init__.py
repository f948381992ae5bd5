"""Reports: readable summaries of what the battery found.

* :mod:`.results` -- the results document of a run (``initcheck check --json``),
  built by the CLI and the pytest plugin alike; cheap to import;
* :mod:`.html` -- the static HTML report of a results document
  (``initcheck check --report``, ``initcheck report``, ``pytest --initcheck-report``),
  with :mod:`.figures`, what to draw for an outcome and how (Matplotlib);
* :mod:`.tf_matrix` -- the TensorFlow matrix table (environment x spec, with
  each environment's Keras backend) from the tox environments' JUnit XML, one
  results folder or several merged (``initcheck matrix``);
* :mod:`.ci_workflow` -- the GitHub Actions workflow that runs the tox matrix
  one job per environment (``initcheck matrix --workflow``);
* :mod:`.affected` -- the declared findings in TensorFlow/Keras against the
  installed versions, their reproductions verified, docs/findings.md
  (``initcheck findings``).

The results document and the JUnit XML of ``initcheck check`` are written as
the run goes, so an interrupted run leaves a valid partial report.  Nothing
here imports TensorFlow at import time: a report is rendered from files.
"""
