<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
  <context>
    <name>LoginDialog</name>
    <message>
      <source>WattDesk — log in</source>
      <translation>WattDesk — 登录</translation>
    </message>
    <message>
      <source>User name</source>
      <translation>用户名</translation>
    </message>
    <message>
      <source>Password</source>
      <translation>密码</translation>
    </message>
    <message>
      <source>Log in</source>
      <translation>登录</translation>
    </message>
    <message>
      <source>Quit</source>
      <translation>退出</translation>
    </message>
    <message>
      <source>Too many failed attempts: the account is locked until {time}.</source>
      <translation>尝试失败次数过多：账户已锁定至 {time}。</translation>
    </message>
    <message>
      <source>This account is disabled.</source>
      <translation>该账户已停用。</translation>
    </message>
    <message>
      <source>Wrong user name or password.</source>
      <translation>用户名或密码错误。</translation>
    </message>
  </context>
  <context>
    <name>FirstRunDialog</name>
    <message>
      <source>WattDesk — first start</source>
      <translation>WattDesk — 首次启动</translation>
    </message>
    <message>
      <source>No user accounts exist yet. Create the first administrator; there is no default account or password.</source>
      <translation>尚无用户账户。请创建第一个管理员；系统没有默认账户或默认密码。</translation>
    </message>
    <message>
      <source>User name</source>
      <translation>用户名</translation>
    </message>
    <message>
      <source>Full name</source>
      <translation>姓名</translation>
    </message>
    <message>
      <source>Password (at least {n} characters)</source>
      <translation>密码（至少 {n} 个字符）</translation>
    </message>
    <message>
      <source>Repeat password</source>
      <translation>确认密码</translation>
    </message>
    <message>
      <source>Create administrator</source>
      <translation>创建管理员</translation>
    </message>
    <message>
      <source>Quit</source>
      <translation>退出</translation>
    </message>
    <message>
      <source>The two passwords differ.</source>
      <translation>两次输入的密码不一致。</translation>
    </message>
  </context>
  <context>
    <name>LockScreen</name>
    <message>
      <source>Locked at {time}; user {user}</source>
      <translation>{time} 锁定；用户 {user}</translation>
    </message>
    <message>
      <source>Session locked</source>
      <translation>会话已锁定</translation>
    </message>
    <message>
      <source>User name</source>
      <translation>用户名</translation>
    </message>
    <message>
      <source>Password</source>
      <translation>密码</translation>
    </message>
    <message>
      <source>Unlock</source>
      <translation>解锁</translation>
    </message>
    <message>
      <source>Emergency control…</source>
      <translation>紧急操作…</translation>
    </message>
    <message>
      <source>Open a breaker without unlocking: enter your own user name and password first</source>
      <translation>无需解锁即可分闸：请先输入您本人的用户名和密码</translation>
    </message>
    <message>
      <source>Control is not available on this workstation</source>
      <translation>本工作站不提供控制功能</translation>
    </message>
    <message>
      <source>This user may not control breakers.</source>
      <translation>该用户无权操作断路器。</translation>
    </message>
    <message>
      <source>Too many failed attempts: the account is locked until {time}.</source>
      <translation>尝试失败次数过多：账户已锁定至 {time}。</translation>
    </message>
    <message>
      <source>This account is disabled.</source>
      <translation>该账户已停用。</translation>
    </message>
    <message>
      <source>Wrong user name or password.</source>
      <translation>用户名或密码错误。</translation>
    </message>
  </context>
  <context>
    <name>SessionGuard</name>
    <message>
      <source>administrator</source>
      <translation>管理员</translation>
    </message>
    <message>
      <source>operator</source>
      <translation>操作员</translation>
    </message>
    <message>
      <source>viewer</source>
      <translation>浏览者</translation>
    </message>
    <message>
      <source>{role}, locked</source>
      <translation>{role}，已锁定</translation>
    </message>
  </context>
  <context>
    <name>SecurityErrors</name>
    <message>
      <source>A password needs at least {n} characters.</source>
      <translation>密码至少需要 {n} 个字符。</translation>
    </message>
    <message>
      <source>A password may have at most {n} characters.</source>
      <translation>密码最多 {n} 个字符。</translation>
    </message>
    <message>
      <source>A password may not be one character repeated.</source>
      <translation>密码不能由同一个字符重复组成。</translation>
    </message>
    <message>
      <source>A password may not contain the user name.</source>
      <translation>密码不能包含用户名。</translation>
    </message>
    <message>
      <source>Enter a user name.</source>
      <translation>请输入用户名。</translation>
    </message>
    <message>
      <source>A user name may have at most {n} characters.</source>
      <translation>用户名最多 {n} 个字符。</translation>
    </message>
    <message>
      <source>A user name may not begin or end with a space.</source>
      <translation>用户名首尾不能有空格。</translation>
    </message>
    <message>
      <source>A user name may not contain control characters (tabs, line breaks).</source>
      <translation>用户名不能包含控制字符（制表符、换行符）。</translation>
    </message>
    <message>
      <source>A full name may have at most {n} characters.</source>
      <translation>姓名最多 {n} 个字符。</translation>
    </message>
    <message>
      <source>A full name may not contain NUL characters.</source>
      <translation>姓名不能包含 NUL 字符。</translation>
    </message>
    <message>
      <source>This account no longer exists.</source>
      <translation>该账户已不存在。</translation>
    </message>
    <message>
      <source>An account with this user name exists already.</source>
      <translation>已存在同名账户。</translation>
    </message>
    <message>
      <source>This is the last enabled administrator: make another administrator first.</source>
      <translation>这是最后一个启用的管理员：请先设立另一名管理员。</translation>
    </message>
    <message>
      <source>Accounts exist already: an administrator adds users.</source>
      <translation>账户已存在：请由管理员添加用户。</translation>
    </message>
    <message>
      <source>Unknown role.</source>
      <translation>未知角色。</translation>
    </message>
    <message>
      <source>Refused: your role may not manage users and roles. The attempt was recorded.</source>
      <translation>已拒绝：您的角色无权管理用户和角色。此次尝试已记录。</translation>
    </message>
    <message>
      <source>Refused: only an administrator may change administrator accounts or what a role may do. The attempt was recorded.</source>
      <translation>已拒绝：只有管理员才能更改管理员账户或角色权限。此次尝试已记录。</translation>
    </message>
  </context>
</TS>
