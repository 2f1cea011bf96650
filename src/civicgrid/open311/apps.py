from django.apps import AppConfig


class Open311Config(AppConfig):
    name = "civicgrid.open311"
    label = "open311"
    verbose_name = "Open311接口"

    def ready(self):
        from civicgrid.core.middleware import MB, register_small_body_prefix, register_too_large_renderer
        from civicgrid.open311.formats import Open311Error, render_error

        def too_large(request, detail: str):
            fmt = "xml" if request.path_info.endswith(".xml") else "json"
            return render_error(fmt, Open311Error(413, detail))

        register_small_body_prefix("/open311/", MB)
        register_too_large_renderer("/open311/", too_large)
