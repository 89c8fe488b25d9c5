from django.urls import path

from . import views

app_name = "jobs"
urlpatterns = [
    path("internal/v1/job-results", views.job_result_receive, name="job_result_receive"),
]
