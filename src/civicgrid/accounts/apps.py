from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "civicgrid.accounts"
    label = "accounts"
    verbose_name = "账号与权限"

    def ready(self):
        from civicgrid.accounts import selectors, signals  # noqa: F401  (register scope rules and audit hooks)
