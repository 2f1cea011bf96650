"""Staff intake URLs, mounted at ``/field/``: the 网格员 phone report and the desk entry of 领导交办/舆情/信访."""

from django.urls import path

from civicgrid.intake import field

app_name = "field"
urlpatterns = [
    path("", field.patrol, name="patrol"),
    path("staff/", field.desk, name="desk"),
    path("done/<int:pk>/", field.done, name="done"),
]
