from django.contrib import admin

from civicgrid.accounts.admin import SystemAdminOnly
from civicgrid.triage import services
from civicgrid.triage.models import DuplicateCandidate, StreetTriageSetting, TriageKeyword, TriageSuggestion


@admin.register(TriageKeyword)
class TriageKeywordAdmin(SystemAdminOnly, admin.ModelAdmin):
    list_display = ("category", "words_short", "weight", "updated_at", "updated_by")
    search_fields = ("category__name", "category__code", "words")
    autocomplete_fields = ("category",)
    readonly_fields = ("updated_at", "updated_by")

    @admin.display(description="关键词")
    def words_short(self, obj):
        return "、".join(obj.word_list()[:8])

    def save_model(self, request, obj, form, change):
        # through the service: validation, audit row, every server's cold-start catalogue refreshed
        services.save_keywords(actor=request.user, category=obj.category, words=obj.words, weight=obj.weight)


@admin.register(TriageSuggestion)
class TriageSuggestionAdmin(SystemAdminOnly, admin.ModelAdmin):
    list_display = (
        "case",
        "created_at",
        "source",
        "model_version",
        "category",
        "confidence",
        "final_category",
        "outcome",
    )
    list_filter = ("outcome", "source", "model_version")
    search_fields = ("case__number",)
    readonly_fields = [f.name for f in TriageSuggestion._meta.fields]

    def get_queryset(self, request):
        # the suggestions of the cases this administrator's tier sees (a 街道's admin: its 街道 only)
        from civicgrid.cases import selectors as case_selectors

        visible = case_selectors.visible_cases(user=request.user).values("pk")
        return super().get_queryset(request).filter(case__in=visible).select_related("case", "category")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(DuplicateCandidate)
class DuplicateCandidateAdmin(SystemAdminOnly, admin.ModelAdmin):
    list_display = ("case", "candidate", "score", "status", "created_at", "decided_by", "decided_at")
    list_filter = ("status",)
    search_fields = ("case__number", "candidate__number")
    readonly_fields = [f.name for f in DuplicateCandidate._meta.fields]

    def get_queryset(self, request):
        from civicgrid.cases import selectors as case_selectors

        visible = case_selectors.visible_cases(user=request.user).values("pk")
        return super().get_queryset(request).filter(case__in=visible).select_related("case", "candidate")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(StreetTriageSetting)
class StreetTriageSettingAdmin(SystemAdminOnly, admin.ModelAdmin):
    list_display = ("street", "auto_dispatch", "threshold", "updated_at", "updated_by")
    readonly_fields = ("updated_at", "updated_by")

    def get_queryset(self, request):
        from civicgrid.places.selectors import tier_street_ids

        ids = tier_street_ids(request.user)
        qs = super().get_queryset(request).select_related("street")
        return qs if ids is None else qs.filter(street_id__in=ids)

    def save_model(self, request, obj, form, change):
        # through the service: validation, the 街道 within the administrator's tier, the audit row
        services.save_street_setting(
            actor=request.user, street=obj.street, auto_dispatch=obj.auto_dispatch, threshold=obj.threshold
        )
