"""Reports: readable summaries of what the battery found.

* :mod:`.tf_matrix` -- the TensorFlow matrix table (environment x spec) from
  the tox environments' JUnit XML (``initcheck matrix``);
* :mod:`.affected` -- the declared findings in TensorFlow/Keras against the
  installed versions, their reproductions verified, docs/findings.md
  (``initcheck findings``);
* :mod:`.results` -- the JSON and JUnit XML of ``initcheck check``, written
  as the run goes so an interrupted run leaves a valid partial report.
"""
