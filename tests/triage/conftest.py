from __future__ import annotations

import pytest

from civicgrid.cases.categories import load_categories
from civicgrid.cases.models import Category
from civicgrid.triage import defaults, modelstore
from tests.cases.factories import World


class TriageWorld(World):
    """The cases' small 街道 with the seeded category catalogue (and its default keyword lists)."""

    def __init__(self):
        if not Category.objects.filter(name="暴露垃圾").exists():  # a transactional test flushed the seed
            load_categories()
        defaults.ensure()
        super().__init__()
        self.cat = {c.name: c for c in Category.objects.exclude(level="major")}

    def complaint(self, description: str, title: str = "", **kw):
        return (
            self.report(description=description, title=title, category=None, **kw)
            if title
            else self.report(description=description, category=None, **kw)
        )


@pytest.fixture
def tw(db) -> TriageWorld:
    return TriageWorld()


@pytest.fixture(autouse=True)
def model_dir(settings, tmp_path):
    """Each test has its own empty model directory (and forgets the model another test loaded)."""
    settings.DATA_DIR = tmp_path / "data"
    modelstore.forget()
    yield settings.DATA_DIR / "triage" / "models"
    modelstore.forget()
