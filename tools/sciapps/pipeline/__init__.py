"""The runners of the stages, all reading the one list (`sciapps.stages.STAGES`):

- `local`: `sciapps ci`, every stage on one machine, one after another;
- `gitlab`: the child pipeline `sciapps plan` writes, one job per stage and batch;
- `publication`: the push of what the stages checked, and the signed release record,
  which requires every stage shown as a check; and a merge request's review image, never signed;
- `store`: the store's sync of the release records, and a merge request's preview store.
"""

from sciapps.pipeline.gitlab import child_pipeline, write_plan
from sciapps.pipeline.local import run_ci
from sciapps.pipeline.publication import publish_checked, push_ids, push_review

__all__ = ["child_pipeline", "publish_checked", "push_ids", "push_review", "run_ci", "write_plan"]
