"""Choice sets whose members carry a Chinese label and a display colour (after NetBox's ChoiceSet)."""

from __future__ import annotations

from django.db import models


class ColoredChoices(models.TextChoices):
    """``TextChoices`` whose label may be given as ``("标签", "colour")``.

    >>> class Light(ColoredChoices):
    ...     GREEN = "green", ("正常", "success")
    >>> Light.GREEN.label, Light.GREEN.color
    ('正常', 'success')
    """

    def __new__(cls, value, label_color=None):
        obj = str.__new__(cls, value)
        obj._value_ = value
        return obj

    def __init__(self, value, label_color=None):
        if isinstance(label_color, tuple):
            self._cg_label_, self._color_ = label_color
        else:
            self._cg_label_, self._color_ = label_color, "secondary"

    @property
    def label(self):
        return self._cg_label_

    @property
    def color(self):
        return self._color_

    @classmethod
    def colors(cls) -> dict[str, str]:
        return {m.value: m.color for m in cls}


class DeadlineUnit(models.TextChoices):
    """The one set of deadline units (calendar, case engine, forms, API, 12345 import).

    See :mod:`civicgrid.core.workcalendar` for how each unit is counted.
    """

    NATURAL_HOURS = "natural_hours", "自然时"
    WORKING_HOURS = "working_hours", "工作时"
    WORKING_DAYS = "working_days", "工作日"
    NATURAL_DAYS = "natural_days", "自然日"


# units counted in whole days (the amount must be an integer)
DAY_UNITS = frozenset({DeadlineUnit.WORKING_DAYS, DeadlineUnit.NATURAL_DAYS})


class Light(ColoredChoices):
    """The one deadline light. Members are ``str`` (``Light.GREEN == "green"``)."""

    GREEN = "green", ("正常", "success")
    YELLOW = "yellow", ("预警", "warning")
    RED = "red", ("超时", "danger")
