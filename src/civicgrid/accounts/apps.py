from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "civicgrid.accounts"
    label = "accounts"
    verbose_name = "账号与权限"

    def ready(self):
        from civicgrid.accounts import selectors, services, signals  # noqa: F401  (register scope rules and audit hooks)
        from civicgrid.core.api import register_token_authenticator

        # looked up per call, so the service stays the one place (and replaceable in tests)
        register_token_authenticator(lambda key: services.authenticate_token(key))
