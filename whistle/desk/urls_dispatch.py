from django.urls import URLPattern, URLResolver, path

from whistle.desk.views import dispatch, hotline, search

app_name = "dispatch"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", dispatch.home, name="home"),
    path("board/", dispatch.board, name="board"),
    path("cases/", search.cases, name="cases"),
    path("wall/", dispatch.wall, name="wall"),
    path("op/<str:name>/<str:key>/", dispatch.op_form, name="op_form"),
    path("queue/<str:name>/", dispatch.queue, name="queue"),
    path("hotline/", hotline.hotline, name="hotline"),
    path("hotline/import/", hotline.hotline_import, name="hotline_import"),
    path("whistle/<str:reference>/", dispatch.whistle, name="whistle"),
]
