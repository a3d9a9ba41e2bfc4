module librunc.example/gorunc

go 1.19
