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
</TS>
