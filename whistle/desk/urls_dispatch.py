from django.urls import URLPattern, URLResolver, path

from whistle.desk.views import dispatch

app_name = "dispatch"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", dispatch.home, name="home"),
    path("board/", dispatch.board, name="board"),
    path("wall/", dispatch.wall, name="wall"),
    path("whistle/<str:reference>/", dispatch.whistle, name="whistle"),
]
